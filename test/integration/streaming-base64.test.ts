import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { containerConfig, startContainer } from '../support/pod-fixtures';
import { useBusyboxPods, type BusyboxPod } from '../support/busybox-pods';

// Exec and PortForward over the base64 WebSocket subprotocols (base64.channel.k8s.io and
// v4.base64.channel.k8s.io) with real runc and conmon. The client here frames by hand, from the
// wsstream description ('0'+channel, then base64 of the data, in text messages), not with the
// server's code.

interface Base64Session {
  /** Decoded bytes per channel, in order. */
  readonly channels: Map<number, Buffer>;
  readonly closeCode: number;
  /** Whether every message the server sent was a text message. */
  readonly allText: boolean;
  readonly protocol: string;
}

const encode = (channel: number, data: string | Buffer): string => String.fromCharCode(48 + channel) + Buffer.from(data).toString('base64');

function base64Session(url: string, protocols: string[], drive: (ws: WebSocket) => void = () => undefined): Promise<Base64Session> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    const channels = new Map<number, Buffer>();
    let allText = true;
    ws.on('open', () => drive(ws));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) allText = false;
      const text = data.toString('latin1');
      if (text === '') return;
      const channel = text.charCodeAt(0) - 48;
      channels.set(channel, Buffer.concat([channels.get(channel) ?? Buffer.alloc(0), Buffer.from(text.slice(1), 'base64')]));
    });
    ws.on('close', (code) => resolve({ channels, closeCode: code, allText, protocol: ws.protocol }));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => reject(new Error(`HTTP ${res.statusCode}: ${body}`)));
    });
    ws.on('error', reject);
  });
}

const text = (s: Base64Session, channel: number): string => s.channels.get(channel)?.toString() ?? '';

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
    const result = await base64Session(String(url), ['v4.base64.channel.k8s.io'], (ws) => ws.send(encode(0, 'hello base64\n')));
    assert.equal(result.protocol, 'v4.base64.channel.k8s.io');
    assert.equal(result.allText, true);
    assert.deepEqual(result.channels.get(1), Buffer.concat([Buffer.from('got hello base64\n'), Buffer.from([0, 255])]));
    assert.equal(text(result, 2), 'err\n');
    assert.deepEqual(JSON.parse(text(result, 3)), {
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
    const success = await base64Session(String(ok.url), ['base64.channel.k8s.io']);
    assert.equal(success.protocol, 'base64.channel.k8s.io');
    assert.equal(success.allText, true);
    assert.equal(text(success, 1), 'plain\n');
    assert.equal(success.channels.has(3), false);

    const failed = await client.call('Exec', { container_id: id, cmd: ['sh', '-c', 'exit 2'], stdout: true });
    const failure = await base64Session(String(failed.url), ['base64.channel.k8s.io']);
    assert.equal(text(failure, 3), 'command terminated with non-zero exit code: error executing command, exit status 2');
  });

  it('drops a frame that is not base64 and goes on with the next one', async () => {
    const { client, podId, pod } = await start();
    const id = await startContainer(client, podId, pod, containerConfig('sleeper', pods.image, ['sleep', '300']));
    const { url } = await client.call('Exec', { container_id: id, cmd: ['sh', '-c', 'read line; echo "got $line"'], stdin: true, stdout: true });
    const result = await base64Session(String(url), ['v4.base64.channel.k8s.io'], (ws) => {
      ws.send('0not base64!');
      ws.send(encode(0, 'second\n'));
    });
    assert.equal(text(result, 1), 'got second\n');
    assert.deepEqual(JSON.parse(text(result, 3)), { metadata: {}, status: 'Success' });
  });

  it('forwards a port over v4.base64.channel.k8s.io: the port prefix and the page arrive base64-encoded', async () => {
    const { client, podId, pod } = await start();
    await startContainer(client, podId, pod, containerConfig('web', pods.image, ['sh', '-c', 'mkdir -p /www && echo hello in base64 > /www/index.html && exec httpd -f -p 8080 -h /www']));
    let data: Buffer = Buffer.alloc(0);
    let result: Base64Session | undefined;
    // httpd may not listen yet: try again on a fresh URL (tokens work once) until the page comes.
    for (let attempt = 0; attempt < 50 && !data.toString().includes('hello in base64'); attempt++) {
      const { url } = await client.call('PortForward', { pod_sandbox_id: podId, port: [8080] });
      result = await base64Session(`${String(url)}?port=8080`, ['v4.base64.channel.k8s.io'], (ws) => ws.send(encode(0, 'GET / HTTP/1.0\r\n\r\n')));
      data = result.channels.get(0) ?? Buffer.alloc(0);
      if (!data.toString().includes('hello in base64')) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(result?.protocol, 'v4.base64.channel.k8s.io');
    assert.equal(result?.allText, true);
    assert.deepEqual([...data.subarray(0, 2)], [0x90, 0x1f], 'the data channel starts with the port, little-endian');
    assert.match(data.subarray(2).toString(), /^HTTP\/1\.[01] 200 OK[\s\S]*hello in base64\n$/);
  });
});
