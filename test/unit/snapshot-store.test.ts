import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { packageInfo } from '../../core/package-info';

// A snapshot reaches the disk before it gets its chain ID's name: the store's system calls,
// traced with strace on the built store (dist/, as `npm test` builds it), sync the unpacked tree's
// filesystem, then rename it into place, then sync the folder that holds the new name.

describe('SnapshotStore durability', () => {
  let root = '';
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'caisson-snapshots-'))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('syncs the unpacked layer before the rename, and the rename after it', () => {
    const store = path.join(packageInfo().root, 'dist', 'core', 'images', 'snapshot-store.js');
    const chainHex = 'a'.repeat(64);
    const script = `
      const fs = require('node:fs');
      const { SnapshotStore } = require(${JSON.stringify(store)});
      new SnapshotStore(${JSON.stringify(root)})
        .ensure('sha256:${chainHex}', async (dir) => { fs.mkdirSync(dir); fs.writeFileSync(dir + '/file', 'x'); })
        .then(() => process.stdout.write('done'));`;
    const trace = path.join(root, 'trace');
    const out = execFileSync('strace', ['-f', '-qq', '-e', 'trace=syncfs,fsync,rename,renameat,renameat2', '-o', trace, process.execPath, '-e', script], { encoding: 'utf8' });
    assert.equal(out, 'done');
    const calls = fs.readFileSync(trace, 'utf8').split('\n').filter((line) => /(syncfs|fsync|rename\w*)\(/.test(line) && !/ENOENT|resumed/.test(line));
    const at = (pattern: RegExp): number => calls.findIndex((line) => pattern.test(line));
    const synced = at(/syncfs\(/);
    const renamed = at(new RegExp(`rename\\w*\\(.*tmp-[0-9a-f]+".*${chainHex}"`));
    const dirSynced = calls.findIndex((line, i) => i > renamed && /fsync\(/.test(line));
    assert.ok(synced >= 0 && renamed > synced && dirSynced > renamed, `expected syncfs, then the rename, then fsync; traced:\n${calls.join('\n')}`);
    assert.equal(fs.readFileSync(path.join(root, chainHex, 'fs', 'file'), 'utf8'), 'x');
  });
});
