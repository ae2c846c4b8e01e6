import assert from 'node:assert/strict';
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
