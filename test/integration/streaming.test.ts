import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import * as net from 'node:net';
import { containerConfig, startContainer, waitForExit } from '../support/pod-fixtures';
import { useBusyboxPods, type BusyboxPod } from '../support/busybox-pods';
import { ChannelClient, runSession } from '../support/channel-client';

// Exec and PortForward over WebSocket with real runc and conmon: a client written against the
// Kubernetes channel protocol (test/support/channel-client.ts: the `ws` package, as any WebSocket
// peer would), not the server's code.

/** A loopback port nothing listens on right now (for a host-network server). */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('streaming: Exec and PortForward over WebSocket', function () {
  this.timeout(120_000);
  const pods = useBusyboxPods('streamlogs');
  const start = (): Promise<BusyboxPod> => pods.startPod();

  it('execs a command: stdout, stderr and exit code 3 as a Failure Status; the token works once', async () => {
    const { client, podId, pod } = await start();
    const id = await startContainer(client, podId, pod, containerConfig('sleeper', pods.image, ['sleep', '300']));
    const { url } = await client.call('Exec', { container_id: id, cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'], stdout: true, stderr: true });
    assert.match(String(url), /^http:\/\/127\.0\.0\.1:\d+\/exec\/[A-Za-z0-9_-]{22}$/);
    const result = await runSession(String(url), ['v5.channel.k8s.io']);
    assert.deepEqual([...(result.first ?? [])], [1], 'the session starts with an empty stdout message, as the kubelet sends');
    assert.equal(result.text(1), 'out\n');
    assert.equal(result.text(2), 'err\n');
    assert.deepEqual(JSON.parse(result.text(3)), {
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command, exit status 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    assert.equal(result.closeCode, 1000);
    await assert.rejects(runSession(String(url), ['v5.channel.k8s.io']), {
      message: 'HTTP 404: exec session not found: the token is unknown, already used or expired (tokens work once, within one minute)\n',
    });

    const ok = await client.call('Exec', { container_id: id, cmd: ['true'], stdout: true });
    const success = await runSession(String(ok.url), ['v4.channel.k8s.io']);
    assert.deepEqual(JSON.parse(success.text(3)), { metadata: {}, status: 'Success' });
  });

  it('pipes stdin to the command and closes it on a v5 half-close', async () => {
    const { client, podId, pod } = await start();
    const id = await startContainer(client, podId, pod, containerConfig('sleeper', pods.image, ['sleep', '300']));
    const { url } = await client.call('Exec', { container_id: id, cmd: ['cat'], stdin: true, stdout: true, stderr: true });
    const result = await runSession(String(url), ['v5.channel.k8s.io'], (session) => {
      session.send(0, 'hello\n');
      session.send(0, 'world\n');
      session.halfCloseStdin();
    });
    assert.equal(result.text(1), 'hello\nworld\n');
    assert.deepEqual(JSON.parse(result.text(3)), { metadata: {}, status: 'Success' });
  });

  it('holds a client back while the command does not read its stdin (flow control), and lets it go when it does', async () => {
    const { client, podId, pod } = await start();
    const id = await startContainer(client, podId, pod, containerConfig('sleeper', pods.image, ['sleep', '300']));
    // The command reads nothing until /tmp/go exists, then reads everything.
    const script = 'while [ ! -e /tmp/go ]; do sleep 0.1; done; exec wc -c';
    const { url } = await client.call('Exec', { container_id: id, cmd: ['sh', '-c', script], stdin: true, stdout: true });
    const total = 32 * 1024 * 1024;
    const chunk = Buffer.alloc(32 * 1024, 0x61);
    const session = await ChannelClient.open(String(url), ['v5.channel.k8s.io']);
    const { ws } = session;
    for (let sent = 0; sent < total; sent += chunk.length) session.send(0, chunk);
    // Unread, the bytes stay with the client: the daemon takes a few MiB (its high water plus
    // kernel buffers) and then stops reading the socket. Without flow control it would take all.
    let last = -1;
    while (ws.bufferedAmount !== last) {
      last = ws.bufferedAmount;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(ws.bufferedAmount > total / 2, `the daemon read ${total - ws.bufferedAmount} of ${total} bytes the command did not read`);
    await client.call('ExecSync', { container_id: id, cmd: ['touch', '/tmp/go'], timeout: 10 });
    session.halfCloseStdin();
    await session.closed;
    const sentBytes = Math.ceil(total / chunk.length) * chunk.length;
    assert.equal(session.text(1).trim(), String(sentBytes));
  });

  it('execs on a terminal when asked for a TTY: stderr arrives merged into stdout (more in streaming-tty.test.ts)', async () => {
    const { client, podId, pod } = await start();
    const id = await startContainer(client, podId, pod, containerConfig('sleeper', pods.image, ['sleep', '300']));
    const { url } = await client.call('Exec', { container_id: id, cmd: ['sh', '-c', 'echo out; echo err >&2; test -t 1'], tty: true, stdout: true });
    const result = await runSession(String(url), ['v5.channel.k8s.io']);
    // A terminal ends lines with \r\n (\r\r\n for early ones, see streaming-tty.test.ts).
    assert.equal(result.text(1).replace(/\r+\n/g, '\n'), 'out\nerr\n');
    assert.equal(result.has(2), false);
    assert.deepEqual(JSON.parse(result.text(3)), { metadata: {}, status: 'Success' });
  });

  it('validates Exec and PortForward requests', async () => {
    const { client, podId, pod } = await start();
    const id = await startContainer(client, podId, pod, containerConfig('quick', pods.image, ['true']));
    await assert.rejects(client.call('Exec', { container_id: id, cmd: ['true'] }), {
      code: grpc.status.INVALID_ARGUMENT,
      details: `Exec in container ${id}: one of stdin, stdout or stderr must be set`,
    });
    await assert.rejects(client.call('Exec', { container_id: id, cmd: ['sh'], tty: true, stdout: true, stderr: true }), {
      code: grpc.status.INVALID_ARGUMENT,
      details: `Exec in container ${id}: tty and stderr cannot both be set (a terminal merges stderr into stdout)`,
    });
    await assert.rejects(client.call('Exec', { container_id: 'nope', cmd: ['true'], stdout: true }), { code: grpc.status.NOT_FOUND, details: 'container nope not found' });
    await waitForExit(client, id);
    await assert.rejects(client.call('Exec', { container_id: id, cmd: ['true'], stdout: true }), {
      code: grpc.status.FAILED_PRECONDITION,
      details: `container ${id} is not running (CONTAINER_EXITED); Exec needs a running container`,
    });
    await assert.rejects(client.call('PortForward', { pod_sandbox_id: 'nope', port: [80] }), { code: grpc.status.NOT_FOUND, details: 'sandbox nope not found' });
    await client.call('StopPodSandbox', { pod_sandbox_id: podId });
    await assert.rejects(client.call('PortForward', { pod_sandbox_id: podId, port: [80] }), {
      code: grpc.status.FAILED_PRECONDITION,
      details: `sandbox ${podId} is not ready (SANDBOX_NOTREADY); PortForward needs a ready sandbox`,
    });
  });

  it('forwards a port into the pod network namespace: an HTTP GET to busybox httpd', async () => {
    const { client, podId, pod } = await start();
    await startContainer(client, podId, pod, containerConfig('web', pods.image, ['sh', '-c', 'mkdir -p /www && echo hello from the pod > /www/index.html && exec httpd -f -p 8080 -h /www']));
    const { url } = await client.call('PortForward', { pod_sandbox_id: podId, port: [8080] });
    assert.match(String(url), /^http:\/\/127\.0\.0\.1:\d+\/portforward\/[A-Za-z0-9_-]{22}$/);
    let page = '';
    for (let attempt = 0; attempt < 50 && !page.includes('hello from the pod'); attempt++) {
      const { url: fresh } = await client.call('PortForward', { pod_sandbox_id: podId, port: [8080] });
      const result = await runSession(`${String(fresh)}?port=8080`, ['portforward.k8s.io'], (session) => {
        session.send(0, 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n');
      });
      const data = result.bytes(0);
      assert.deepEqual([...data.subarray(0, 2)], [0x90, 0x1f], 'the data channel starts with the port, little-endian');
      page = data.subarray(2).toString();
      if (!page.includes('hello from the pod')) await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(page, /^HTTP\/1\.[01] 200 OK/);
    assert.match(page, /hello from the pod\n$/);

    // Two connections at once, each on its own URL; and one URL forwarding two ports (channels 0-1 and 2-3).
    const get = async (ports: string, channels: number[]): Promise<string[]> => {
      const { url: fresh } = await client.call('PortForward', { pod_sandbox_id: podId, port: [8080] });
      const result = await runSession(`${String(fresh)}?port=${ports}`, ['portforward.k8s.io'], (session) => {
        for (const c of channels) session.send(c, 'GET / HTTP/1.0\r\n\r\n');
      });
      return channels.map((c) => result.bytes(c).subarray(2).toString());
    };
    const pages = (await Promise.all([get('8080', [0]), get('8080', [0]), get('8080,8080', [0, 2])])).flat();
    assert.equal(pages.length, 4);
    for (const p of pages) assert.match(p, /hello from the pod\n$/);

    // A port nothing listens on: the relay's reason on the error channel, then the socket closes.
    const { url: refusedUrl } = await client.call('PortForward', { pod_sandbox_id: podId, port: [8081] });
    const refused = await runSession(`${String(refusedUrl)}?port=8081`, ['portforward.k8s.io']);
    assert.match(refused.bytes(1).subarray(2).toString(), /^error forwarding port 8081 in the pod's network namespace: .*Connection refused/);
  });

  it('forwards a port of a host-network pod: the host loopback, where its server listens', async () => {
    const { client, podId, pod } = await pods.startPod({ linux: { security_context: { namespace_options: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } } } });
    const port = await freeLoopbackPort();
    const serve = `mkdir -p /www && echo hello from the host network > /www/index.html && exec httpd -f -p 127.0.0.1:${port} -h /www`;
    await startContainer(client, podId, pod, containerConfig('web', pods.image, ['sh', '-c', serve]));
    let page = '';
    for (let attempt = 0; attempt < 50 && !page.includes('hello from the host network'); attempt++) {
      const { url } = await client.call('PortForward', { pod_sandbox_id: podId, port: [port] });
      const result = await runSession(`${String(url)}?port=${port}`, ['portforward.k8s.io'], (session) => {
        session.send(0, 'GET / HTTP/1.0\r\n\r\n');
      });
      page = result.bytes(0).subarray(2).toString();
      if (!page.includes('hello from the host network')) await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(page, /^HTTP\/1\.[01] 200 OK/);
    assert.match(page, /hello from the host network\n$/);
  });
});
