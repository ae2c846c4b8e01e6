import assert from 'node:assert/strict';
import { parsePortPair } from '../../cli/commands/port-forward';
import { channelFrame, closeChannelFrame, outcomeOf, resizeFrame } from '../../cli/streaming/channel-frames';
import { portForwardUrl } from '../../cli/streaming/port-forward-client';

// The pure parts of the CLI's streaming client: frames it sends, how it reads the error channel,
// and the port arguments of port-forward.

describe('CLI streaming client', () => {
  it('frames stdin, the v5 half-close and resizes as kubectl does', () => {
    assert.deepEqual([...channelFrame(0, 'hi')], [0, 104, 105]);
    assert.deepEqual([...closeChannelFrame(0)], [255, 0]);
    assert.equal(resizeFrame({ width: 120, height: 40 }).toString('latin1'), '\x04{"Width":120,"Height":40}');
  });

  it('reads the exit code from a NonZeroExitCode Status, and a Failure message otherwise', () => {
    assert.deepEqual(outcomeOf(''), { exitCode: 0 });
    assert.deepEqual(outcomeOf('{"metadata":{},"status":"Success"}'), { exitCode: 0 });
    const nonZero = {
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command, exit status 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    };
    assert.deepEqual(outcomeOf(JSON.stringify(nonZero)), { exitCode: 3 });
    assert.deepEqual(outcomeOf(JSON.stringify({ metadata: {}, status: 'Failure', message: 'container abc is not running' })), {
      exitCode: 1,
      message: 'container abc is not running',
    });
    // A NonZeroExitCode without a readable ExitCode cause is still a failure with its message.
    assert.deepEqual(outcomeOf(JSON.stringify({ ...nonZero, details: { causes: [{ reason: 'ExitCode', message: 'x' }] } })), { exitCode: 1, message: nonZero.message });
    assert.deepEqual(outcomeOf('plain words from an old server'), { exitCode: 1, message: 'plain words from an old server' });
    assert.deepEqual(outcomeOf('{"status":"Failure"}'), { exitCode: 1, message: 'the session failed: {"status":"Failure"}' });
  });

  it('parses [LOCAL_PORT:]REMOTE_PORT as kubectl does: PORT alone on both sides, an empty or 0 LOCAL_PORT a free port', () => {
    assert.deepEqual(parsePortPair('80'), { local: 80, remote: 80 });
    assert.deepEqual(parsePortPair(':80'), { local: 0, remote: 80 });
    assert.deepEqual(parsePortPair('0:80'), { local: 0, remote: 80 });
    assert.deepEqual(parsePortPair('8080:80'), { local: 8080, remote: 80 });
    for (const bad of ['0', '80:', 'a:80', '70000:80', '8080:65536', '-1:80', '80:80:80', '']) {
      assert.throws(() => parsePortPair(bad), {
        message: `port-forward: "${bad}" is not [LOCAL_PORT:]REMOTE_PORT (ports 1-65535; PORT alone uses the same local port, :REMOTE or 0:REMOTE a free one)`,
      });
    }
  });

  it('sets the one port a session forwards in the URL query', () => {
    assert.equal(portForwardUrl('http://127.0.0.1:1234/portforward/abc', 80), 'http://127.0.0.1:1234/portforward/abc?port=80');
    assert.equal(portForwardUrl('http://127.0.0.1:1234/portforward/abc?port=1', 8080), 'http://127.0.0.1:1234/portforward/abc?port=8080');
  });
});
