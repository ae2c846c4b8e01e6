import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { directSignalTarget, signalDirectly, signalNumber } from '../../plugins/runc/direct-signal';
import { processStartTime, type RuncStateFile } from '../../plugins/runc/runc-state-file';

const KILL = os.constants.signals.SIGKILL;
const TERM = os.constants.signals.SIGTERM;
const privatePid = { config: { namespaces: [{ type: 'NEWPID', path: '' }, { type: 'NEWNET', path: '' }] } };
const sharedPid = { config: { namespaces: [{ type: 'NEWPID', path: '/proc/42/ns/pid' }] } };
const startedAt = (time: string) => () => time;

describe('runc: signalling a container without starting runc', () => {
  it('reads signal names as runc does: SIGTERM, TERM and 15', () => {
    assert.equal(signalNumber('SIGTERM'), TERM);
    assert.equal(signalNumber('term'), TERM);
    assert.equal(signalNumber('15'), 15);
    assert.equal(signalNumber('SIGNOPE'), undefined);
    assert.equal(signalNumber('0'), undefined);
  });

  it('signals the init only while it is the process runc started (same start time)', () => {
    const state: RuncStateFile = { init_process_pid: 1234, init_process_start: 99, ...privatePid };
    assert.equal(directSignalTarget(state, startedAt('99'), TERM, false), 1234);
    assert.equal(directSignalTarget(state, startedAt('100'), TERM, false), undefined, 'a reused pid');
    assert.equal(directSignalTarget(state, () => undefined, TERM, false), undefined, 'a process that is gone');
    assert.equal(directSignalTarget({ init_process_pid: 1234 }, startedAt('99'), TERM, false), undefined, 'no start time recorded');
  });

  it('replaces --all only for SIGKILL of a container with its own PID namespace', () => {
    const own: RuncStateFile = { init_process_pid: 1234, init_process_start: '99', ...privatePid };
    const shared: RuncStateFile = { init_process_pid: 1234, init_process_start: '99', ...sharedPid };
    assert.equal(directSignalTarget(own, startedAt('99'), KILL, true), 1234);
    assert.equal(directSignalTarget(own, startedAt('99'), TERM, true), undefined, 'SIGTERM to all needs runc');
    assert.equal(directSignalTarget(shared, startedAt('99'), KILL, true), undefined, 'a shared PID namespace needs runc');
  });

  it('kills a real process named by a state file, and leaves one whose start time differs', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'direct-signal-'));
    const victim = spawn('sleep', ['30'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => victim.once('exit', (_code, signal) => resolve(signal)));
    try {
      assert.ok(victim.pid);
      const start = processStartTime(victim.pid);
      assert.ok(start);
      fs.mkdirSync(path.join(root, 'c1'));
      fs.writeFileSync(path.join(root, 'c1', 'state.json'), JSON.stringify({ init_process_pid: victim.pid, init_process_start: Number(start) + 1, ...privatePid }));
      assert.equal(signalDirectly(root, 'c1', 'SIGKILL', true), false);
      assert.equal(victim.exitCode, null);
      fs.writeFileSync(path.join(root, 'c1', 'state.json'), JSON.stringify({ init_process_pid: victim.pid, init_process_start: Number(start), ...privatePid }));
      assert.equal(signalDirectly(root, 'c1', 'SIGKILL', true), true);
      assert.equal(await exited, 'SIGKILL');
      assert.equal(signalDirectly(root, 'missing', 'SIGKILL', false), false);
    } finally {
      victim.kill('SIGKILL');
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
