import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runProgram } from '../../core/host-programs/run-program';
import { processStartTime } from '../../plugins/runc/runc-state-file';
import { startThroughExecFifo } from '../../plugins/runc/exec-fifo-start';

// A stand-in for runc's container init: a process runc's state.json names, blocked writing "0"
// to the container's exec.fifo until someone starts it.

describe('runc: starting a created container through its exec FIFO', () => {
  let root: string;
  const children: ChildProcess[] = [];

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-fifo-'));
  });

  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    fs.rmSync(root, { recursive: true, force: true });
  });

  async function created(id: string, script: string): Promise<ChildProcess> {
    const dir = path.join(root, id);
    fs.mkdirSync(dir);
    await runProgram('mkfifo', [path.join(dir, 'exec.fifo')]);
    const init = spawn('sh', ['-c', script, 'init', path.join(dir, 'exec.fifo'), path.join(dir, 'started')], { stdio: 'ignore' });
    children.push(init);
    assert.ok(init.pid);
    fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify({ init_process_pid: init.pid, init_process_start: Number(processStartTime(init.pid)) }));
    return init;
  }

  it('releases the init, which then runs, and removes the FIFO', async () => {
    await created('c1', 'printf 0 > "$1"; touch "$2"; exec sleep 30');
    assert.equal(await startThroughExecFifo(root, 'c1'), true);
    assert.equal(fs.existsSync(path.join(root, 'c1', 'exec.fifo')), false);
    for (let i = 0; i < 100 && !fs.existsSync(path.join(root, 'c1', 'started')); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(fs.existsSync(path.join(root, 'c1', 'started')), 'the init went on after the byte was read');
  });

  it('leaves it to runc when there is no state, no FIFO, or the init is gone', async () => {
    assert.equal(await startThroughExecFifo(root, 'missing'), false);
    const init = await created('c2', 'exit 0');
    await new Promise((resolve) => init.once('exit', resolve));
    assert.equal(await startThroughExecFifo(root, 'c2'), false);
    await created('c3', 'exec sleep 30');
    fs.rmSync(path.join(root, 'c3', 'exec.fifo'));
    assert.equal(await startThroughExecFifo(root, 'c3'), false);
  });

  it('says the process is dead when the init dies while it is being started', async () => {
    await created('c4', 'sleep 0.3');
    await assert.rejects(startThroughExecFifo(root, 'c4'), { message: 'container c4 cannot start: its process is already dead' });
  });
});
