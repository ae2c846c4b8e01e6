import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KILL_POINTS } from '../../core/crash/kill-point';

// A kill point kills the daemon only where the test armed it: run a tiny program that passes two
// points, armed at the second, and see it die by SIGKILL after the first.

const killPointModule = path.resolve(__dirname, '..', '..', 'core', 'crash', 'kill-point.ts');

function runThrough(armed: string | undefined): { signal: NodeJS.Signals | null; stdout: string } {
  const program = `
    const { killPoint } = require(${JSON.stringify(killPointModule)});
    process.stdout.write('before ');
    killPoint('sandbox-dir-made');
    process.stdout.write('middle ');
    killPoint('sandbox-recorded');
    process.stdout.write('after');
  `;
  const env = { ...process.env, CAISSON_TEST_KILL_POINT: armed ?? '' };
  const result = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', program], { env, encoding: 'utf8' });
  return { signal: result.signal, stdout: result.stdout };
}

describe('kill points', () => {
  it('SIGKILL the process exactly at the armed point', () => {
    assert.deepEqual(runThrough('sandbox-recorded'), { signal: 'SIGKILL', stdout: 'before middle ' });
  });

  it('do nothing when no point is armed', () => {
    assert.deepEqual(runThrough(undefined), { signal: null, stdout: 'before middle after' });
  });

  it('have unique names', () => {
    const names = Object.values(KILL_POINTS).flat();
    assert.equal(new Set(names).size, names.length);
  });

  it('each stands at exactly one place in the code (a listed point that is never reached tests nothing)', () => {
    const root = path.resolve(__dirname, '..', '..');
    const sources = (dir: string): string[] =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) return entry.name === 'generated' ? [] : sources(full);
        return entry.name.endsWith('.ts') ? [full] : [];
      });
    const code = [...sources(path.join(root, 'core')), ...sources(path.join(root, 'plugins'))].map((file) => fs.readFileSync(file, 'utf8')).join('\n');
    const placed = (name: string): number => code.split(`killPoint('${name}')`).length - 1;
    const wrong = Object.values(KILL_POINTS)
      .flat()
      .filter((name) => placed(name) !== 1)
      .map((name) => `${name}: ${placed(name)} places`);
    assert.deepEqual(wrong, []);
  });
});
