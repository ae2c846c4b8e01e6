import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { launchProgram, ProgramLauncher } from '../../core/host-programs/program-launcher';
import { runProgram } from '../../core/host-programs/run-program';

describe('runProgram', () => {
  it('returns stdout and stderr of a program that succeeds', async () => {
    const result = await runProgram('sh', ['-c', 'echo out; echo err >&2']);
    assert.deepEqual(result, { stdout: 'out\n', stderr: 'err\n' });
  });

  it('quotes what a failing program said', async () => {
    await assert.rejects(runProgram('sh', ['-c', 'echo broken pipe dream >&2; exit 3']), {
      name: 'ProgramError',
      message: 'sh -c echo broken pipe dream >&2; exit 3 exited with status 3: broken pipe dream',
    });
  });

  it('kills a program that runs past its time limit', async () => {
    const started = Date.now();
    await assert.rejects(runProgram('sleep', ['30'], { timeoutMs: 200 }), { message: 'sleep 30 timed out after 200 ms and was killed' });
    assert.ok(Date.now() - started < 5000);
  });

  it('says when a program does not exist', async () => {
    await assert.rejects(runProgram('/nonexistent/runc', ['--version']), { message: '/nonexistent/runc --version failed: program not found' });
  });

  it('keeps at most maxOutputBytes of output', async () => {
    const { stdout } = await runProgram('sh', ['-c', 'head -c 100000 /dev/zero'], { maxOutputBytes: 1000 });
    assert.equal(stdout.length, 1000);
  });
});

describe('runProgram through the launcher shell', () => {
  it('passes every argument as one word, whatever it holds', async () => {
    const odd = ["it's", 'a "b"', '$HOME', '`id`', 'two\nlines', '; rm -rf /', '\\', '', '*'];
    const { stdout } = await runProgram('printf', ['%s|', ...odd]);
    assert.equal(stdout, `${odd.join('|')}|`);
  });

  it('gives the program the environment asked for, variables removed included', async () => {
    const env = { ...process.env, CAISSON_TEST_VALUE: "x'y z", HOME: undefined };
    const { stdout } = await runProgram('sh', ['-c', 'echo "$CAISSON_TEST_VALUE|${HOME-unset}"'], { env });
    assert.equal(stdout, "x'y z|unset\n");
  });

  it('runs the program in cwd and feeds it input', async () => {
    const { stdout } = await runProgram('sh', ['-c', 'pwd; cat'], { cwd: '/proc', input: 'fed\n' });
    assert.equal(stdout, '/proc\nfed\n');
  });

  it('writes stdout to stdoutPath when asked', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'run-program-'));
    try {
      const file = path.join(dir, 'out');
      const result = await runProgram('echo', ['to a file'], { stdoutPath: file });
      assert.equal(result.stdout, '');
      assert.equal(fs.readFileSync(file, 'utf8'), 'to a file\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the signal that ended a program', async () => {
    await assert.rejects(runProgram('sh', ['-c', 'kill -TERM $$']), { message: 'sh -c kill -TERM $$ was killed by SIGTERM' });
  });

  it('runs many programs at once, each answered with its own output', async () => {
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => runProgram('sh', ['-c', `sleep 0.0${i % 10}; echo ${i}`])));
    assert.deepEqual(answers.map((answer) => answer.stdout), Array.from({ length: 40 }, (_, i) => `${i}\n`));
  });

  it('leaves no zombie behind in the shell', async () => {
    const launcher = new ProgramLauncher();
    const request = { env: process.env, timeoutMs: 5000, maxOutputBytes: 1000 };
    for (let i = 0; i < 10; i++) await launcher.run({ ...request, file: 'true', args: [] });
    await launcher.run({ ...request, file: 'true', args: [] });
    const shellPid = launcher.shellPid();
    assert.ok(shellPid);
    const children = childrenOf(shellPid).filter((pid) => fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z'));
    assert.ok(children.length <= 1, `zombies left: ${children.join(', ')}`);
  });

  it('gives up on a program its shell never started, once the time limit and a grace have passed', async () => {
    const launcher = new ProgramLauncher();
    const request = { env: process.env, maxOutputBytes: 1000, file: 'true', args: [] };
    await launcher.run({ ...request, timeoutMs: 5000 });
    const shellPid = launcher.shellPid();
    assert.ok(shellPid);
    process.kill(shellPid, 'SIGSTOP');
    try {
      await assert.rejects(launcher.run({ ...request, timeoutMs: 100 }), { message: 'the launcher shell never started it' });
    } finally {
      process.kill(shellPid, 'SIGKILL');
    }
  });

  it('still answers a program when the launcher shell is killed under it, and starts a new shell', async () => {
    const launcher = new ProgramLauncher();
    const request = { env: process.env, timeoutMs: 5000, maxOutputBytes: 1000 };
    const running = launcher.run({ ...request, file: 'sh', args: ['-c', 'sleep 0.3; echo done'] });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const first = launcher.shellPid();
    assert.ok(first);
    process.kill(first, 'SIGKILL');
    assert.equal((await running).stdout, 'done\n');
    assert.equal((await launcher.run({ ...request, file: 'echo', args: ['again'] })).stdout, 'again\n');
    assert.notEqual(launcher.shellPid(), first);
  });
});

describe('launchProgram: descriptors and the pid before the program runs', () => {
  it('writes the program\'s own pid to each joinCgroups file before exec\'ing it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'launch-'));
    try {
      const files = [path.join(dir, 'a.procs'), path.join(dir, "it's b.procs")];
      const outcome = await launchProgram({ file: 'sh', args: ['-c', 'echo $$'], env: process.env, joinCgroups: files, timeoutMs: 5000, maxOutputBytes: 100 });
      assert.equal(outcome.status, 0);
      for (const file of files) assert.equal(fs.readFileSync(file, 'utf8'), outcome.stdout.trim());
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('holds the program at a FIFO until the caller, told its pid, writes to it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'launch-'));
    try {
      const fifo = path.join(dir, 'gate');
      const log = path.join(dir, 'log');
      fs.writeFileSync(log, 'before\n');
      await runProgram('mkfifo', [fifo]);
      let opened: fs.promises.FileHandle | undefined;
      const events: string[] = [];
      const outcome = await launchProgram({
        file: 'sh',
        args: ['-c', 'head -c 5 <&4; echo; echo oops >&2'],
        env: process.env,
        stdoutPath: log,
        appendStdout: true,
        stderrToStdout: true,
        extraRedirections: [{ fd: 4, op: '<', path: fifo }],
        timeoutMs: 5000,
        maxOutputBytes: 1000,
        onPid: (pid) => {
          events.push(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sh\0-c') ? 'pid of sh' : 'pid before exec');
          void fs.promises.open(fifo, fs.constants.O_RDWR | fs.constants.O_NONBLOCK).then(async (handle) => {
            opened = handle;
            await handle.write('gated');
          });
        },
      });
      await opened?.close();
      assert.deepEqual(events, ['pid before exec']);
      assert.equal(outcome.status, 0);
      assert.equal(fs.readFileSync(log, 'utf8'), 'before\ngated\noops\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

function childrenOf(pid: number): number[] {
  const tasks = fs.readdirSync(`/proc/${pid}/task`);
  return tasks.flatMap((task) => fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
}
