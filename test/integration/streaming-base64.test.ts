import assert from 'node:assert/strict';
import { containerConfig, startContainer } from '../support/pod-fixtures';
import { useBusyboxPods, type BusyboxPod } from '../support/busybox-pods';
import { ChannelClient, runSession, type ChannelClientOptions } from '../support/channel-client';

// Exec and PortForward over the base64 WebSocket subprotocols (base64.channel.k8s.io and
// v4.base64.channel.k8s.io) with real runc and conmon. The client (test/support/channel-client.ts)
// frames by hand, from the wsstream description ('0'+channel, then base64 of the data, in text
// messages), not with the server's code.

const BASE64: ChannelClientOptions = { framing: 'base64' };

describe('streaming: the base64 WebSocket subprotocols', function () {
  this.timeout(120_000);
  const pods = useBusyboxPods('b64logs');
  const start = (): Promise<BusyboxPod> => pods.startPod();

  it('execs over v4.base64.channel.k8s.io: base64 stdin, stdout and stderr in text messages, a Status on channel 3', async () => {
    const { client, podId, pod } = await start();
    const id = await startContainer(client, podId, pod, containerConfig('sleeper', pods.image, ['sleep', '300']));
    // No half-close on the base64 protocols: the command reads one line and ends by itself.
    const cmd = ['sh', '-c', 'read line; echo "got $line"; printf "\\000\\377" ; echo err >&2; exit 3'];
    const { url } = await client.call('Exec', { container_id: id, cmd, stdin: true, stdout: true, stderr: true });
    const result = await runSession(String(url), ['v4.base64.channel.k8s.io'], (session) => session.send(0, 'hello base64\n'), BASE64);
    assert.equal(result.protocol, 'v4.base64.channel.k8s.io');
    assert.equal(result.allText, true);
    assert.deepEqual(result.bytes(1), Buffer.concat([Buffer.from('got hello base64\n'), Buffer.from([0, 255])]));
    assert.equal(result.text(2), 'err\n');
    assert.deepEqual(JSON.parse(result.text(3)), {
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command, exit status 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    assert.equal(result.closeCode, 1000);
  });

  it('execs over base64.channel.k8s.io: nothing on channel 3 for success, the bare message for a failure', async () => {
    const { client, podId, pod } = await start();
    const id = await startContainer(client, podId, pod, containerConfig('sleeper', pods.image, ['sleep', '300']));
    const ok = await client.call('Exec', { container_id: id, cmd: ['echo', 'plain'], stdout: true });
    const success = await runSession(String(ok.url), ['base64.channel.k8s.io'], undefined, BASE64);
    assert.equal(success.protocol, 'base64.channel.k8s.io');
    assert.equal(success.allText, true);
    assert.equal(success.text(1), 'plain\n');
    assert.equal(success.has(3), false);

    const failed = await client.call('Exec', { container_id: id, cmd: ['sh', '-c', 'exit 2'], stdout: true });
    const failure = await runSession(String(failed.url), ['base64.channel.k8s.io'], undefined, BASE64);
    assert.equal(failure.text(3), 'command terminated with non-zero exit code: error executing command, exit status 2');
  });

  it('drops a frame that is not base64 and goes on with the next one', async () => {
    const { client, podId, pod } = await start();
    const id = await startContainer(client, podId, pod, containerConfig('sleeper', pods.image, ['sleep', '300']));
    const { url } = await client.call('Exec', { container_id: id, cmd: ['sh', '-c', 'read line; echo "got $line"'], stdin: true, stdout: true });
    const result = await runSession(
      String(url),
      ['v4.base64.channel.k8s.io'],
      (session) => {
        session.ws.send('0not base64!');
        session.send(0, 'second\n');
      },
      BASE64,
    );
    assert.equal(result.text(1), 'got second\n');
    assert.deepEqual(JSON.parse(result.text(3)), { metadata: {}, status: 'Success' });
  });

  it('forwards a port over v4.base64.channel.k8s.io: the port prefix and the page arrive base64-encoded', async () => {
    const { client, podId, pod } = await start();
    await startContainer(client, podId, pod, containerConfig('web', pods.image, ['sh', '-c', 'mkdir -p /www && echo hello in base64 > /www/index.html && exec httpd -f -p 8080 -h /www']));
    let data: Buffer = Buffer.alloc(0);
    let result: ChannelClient | undefined;
    // httpd may not listen yet: try again on a fresh URL (tokens work once) until the page comes.
    for (let attempt = 0; attempt < 50 && !data.toString().includes('hello in base64'); attempt++) {
      const { url } = await client.call('PortForward', { pod_sandbox_id: podId, port: [8080] });
      result = await runSession(`${String(url)}?port=8080`, ['v4.base64.channel.k8s.io'], (session) => session.send(0, 'GET / HTTP/1.0\r\n\r\n'), BASE64);
      data = result.bytes(0);
      if (!data.toString().includes('hello in base64')) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(result?.protocol, 'v4.base64.channel.k8s.io');
    assert.equal(result?.allText, true);
    assert.deepEqual([...data.subarray(0, 2)], [0x90, 0x1f], 'the data channel starts with the port, little-endian');
    assert.match(data.subarray(2).toString(), /^HTTP\/1\.[01] 200 OK[\s\S]*hello in base64\n$/);
  });
});
