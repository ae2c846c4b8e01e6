import assert from 'node:assert/strict';
import type { CriClient } from '../../cli/cri-client';
import { useBusyboxPods, type BusyboxPod } from '../support/busybox-pods';
import { containerConfig, startContainer } from '../support/pod-fixtures';
import { spdyUpgrade, type SpdyClientSession, type SpdyClientStream } from '../support/spdy-client';

// Exec, Attach and PortForward over SPDY/3.1 with real runc and conmon, through a client that speaks
// like Kubernetes' (test/support/spdy-client.ts: streams opened one after another, each waiting
// for its reply; only the Kubernetes headers; no flow control). kubectl itself is in
// streaming-kubectl.test.ts.

const EXEC_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];

describe('streaming: Exec, Attach and PortForward over SPDY/3.1', function () {
  this.timeout(120_000);
  const pods = useBusyboxPods('spdylogs');
  const sessions: SpdyClientSession[] = [];
  afterEach(() => {
    for (const session of sessions.splice(0)) session.destroy();
  });
  const start = (): Promise<BusyboxPod> => pods.startPod();
  const startSleeper = async (): Promise<{ client: CriClient; id: string }> => {
    const { client, podId, pod } = await start();
    return { client, id: await startContainer(client, podId, pod, containerConfig('sleeper', pods.image, ['sleep', '300'])) };
  };
  const connect = async (url: string, protocols: string[]): Promise<{ session: SpdyClientSession; head: string }> => {
    const answer = await spdyUpgrade(url, protocols);
    assert.equal(answer.status, 101, `expected 101, got ${answer.status}: ${answer.body}`);
    assert.ok(answer.session);
    sessions.push(answer.session);
    return { session: answer.session, head: answer.head };
  };

  it('execs a command: stdout and stderr streams, exit code 3 as a Failure Status on the error stream; the token works once', async () => {
    const { client, id } = await startSleeper();
    const { url } = await client.call('Exec', { container_id: id, cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'], stdout: true, stderr: true });
    const { session, head } = await connect(String(url), EXEC_PROTOCOLS);
    assert.match(head, /\r\nUpgrade: SPDY\/3\.1(\r\n|$)/);
    assert.match(head, /\r\nX-Stream-Protocol-Version: v4\.channel\.k8s\.io(\r\n|$)/);
    const error = await session.openStream({ streamtype: 'error' });
    const stdout = await session.openStream({ streamtype: 'stdout' });
    const stderr = await session.openStream({ streamtype: 'stderr' });
    assert.equal(await stdout.text(), 'out\n');
    assert.equal(await stderr.text(), 'err\n');
    assert.deepEqual(JSON.parse(await error.text()), {
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command, exit status 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    session.destroy(); // as kubectl does once the error stream has ended

    const again = await spdyUpgrade(String(url), ['v4.channel.k8s.io']);
    assert.equal(again.status, 404);
    assert.equal(again.body, 'exec session not found: the token is unknown, already used or expired (tokens work once, within one minute)\n');
  });

  it('pipes the stdin stream to the command until the client half-closes it; v2 says nothing on success', async () => {
    const { client, id } = await startSleeper();
    const { url } = await client.call('Exec', { container_id: id, cmd: ['cat'], stdin: true, stdout: true });
    const { session, head } = await connect(String(url), ['v2.channel.k8s.io', 'channel.k8s.io']);
    assert.match(head, /\r\nX-Stream-Protocol-Version: v2\.channel\.k8s\.io(\r\n|$)/);
    const error = await session.openStream({ streamtype: 'error' });
    const stdin = await session.openStream({ streamtype: 'stdin' });
    const stdout = await session.openStream({ streamtype: 'stdout' });
    stdin.stream.write('hello\n');
    stdin.stream.end('world\n');
    assert.equal(await stdout.text(), 'hello\nworld\n');
    assert.equal(await error.text(), '');
    // The server closes its side of stdin too (client-go waits for that before it lets go of stdin).
    assert.equal((await stdin.received).length, 0);
  });

  it('moves a MiB each way through cat, with a client that never sends a WINDOW_UPDATE', async () => {
    const { client, id } = await startSleeper();
    const { url } = await client.call('Exec', { container_id: id, cmd: ['cat'], stdin: true, stdout: true, stderr: true });
    const { session } = await connect(String(url), EXEC_PROTOCOLS);
    const error = await session.openStream({ streamtype: 'error' });
    const stdin = await session.openStream({ streamtype: 'stdin' });
    const stdout = await session.openStream({ streamtype: 'stdout' });
    const stderr = await session.openStream({ streamtype: 'stderr' });
    const input = Buffer.alloc(1 << 20);
    for (let i = 0; i < input.length; i++) input[i] = (i * 7 + (i >> 10)) & 0xff;
    stdin.stream.end(input);
    const output = await stdout.received;
    assert.equal(output.length, input.length);
    assert.ok(output.equals(input), 'stdout differs from what was sent on stdin');
    assert.equal(await stderr.text(), '');
    assert.deepEqual(JSON.parse(await error.text()), { metadata: {}, status: 'Success' });
  });

  /** Reads `stream` until `pattern` shows in what came so far; the collected text. */
  const waitFor = (stream: SpdyClientStream, pattern: RegExp): Promise<string> =>
    new Promise((resolve, reject) => {
      let seen = '';
      const onData = (chunk: Buffer): void => {
        seen += chunk.toString();
        if (!pattern.test(seen)) return;
        stream.stream.off('data', onData);
        resolve(seen);
      };
      stream.stream.on('data', onData);
      stream.received.then(() => reject(new Error(`the stream ended before ${pattern} showed; it sent ${JSON.stringify(seen)}`)), reject);
    });

  it('execs a shell with a TTY: the resize stream sets the terminal size, the exit code comes on the error stream', async () => {
    const { client, id } = await startSleeper();
    const { url } = await client.call('Exec', { container_id: id, cmd: ['sh'], stdin: true, stdout: true, tty: true });
    const { session } = await connect(String(url), EXEC_PROTOCOLS);
    const error = await session.openStream({ streamtype: 'error' });
    const stdin = await session.openStream({ streamtype: 'stdin' });
    const stdout = await session.openStream({ streamtype: 'stdout' });
    const resize = await session.openStream({ streamtype: 'resize' });
    // As kubectl does: one JSON object per size, newline-terminated (json.Encoder).
    resize.stream.write('{"Width":100,"Height":30}\n');
    // The size reaches the terminal shortly after the message: ask until it shows.
    let shown = '';
    for (let attempt = 0; attempt < 20 && !/30 100/.test(shown); attempt++) {
      const answer = waitFor(stdout, /\d+ \d+\r?\r?\n/);
      stdin.stream.write('stty size\n');
      shown = await answer;
    }
    assert.match(shown, /30 100/);
    resize.stream.write('{"Width":120,"Height":40}\n');
    for (let attempt = 0; attempt < 20 && !/40 120/.test(shown); attempt++) {
      const answer = waitFor(stdout, /\d+ \d+\r?\r?\n/);
      stdin.stream.write('stty size\n');
      shown = await answer;
    }
    assert.match(shown, /40 120/);
    stdin.stream.write('exit 3\n');
    assert.equal(JSON.parse(await error.text()).details.causes[0].message, '3');
  });

  it('attaches to a container: stdin echoed back by cat, the container runs on after the client leaves', async () => {
    const { client, podId, pod } = await start();
    const id = await startContainer(client, podId, pod, containerConfig('cat', pods.image, ['cat'], { stdin: true }));
    const { url } = await client.call('Attach', { container_id: id, stdin: true, stdout: true, stderr: true });
    assert.match(String(url), /\/attach\/[A-Za-z0-9_-]{22}$/);
    const { session } = await connect(String(url), EXEC_PROTOCOLS);
    await session.openStream({ streamtype: 'error' });
    const stdin = await session.openStream({ streamtype: 'stdin' });
    const stdout = await session.openStream({ streamtype: 'stdout' });
    await session.openStream({ streamtype: 'stderr' });
    stdin.stream.write('hello over spdy\n');
    assert.match(await waitFor(stdout, /hello over spdy\n/), /hello over spdy\n/);
    session.destroy();
    await session.closed;
    const { status } = await client.call('ContainerStatus', { container_id: id });
    assert.equal(status?.state, 'CONTAINER_RUNNING');
  });

  it('holds the client back while the command does not read its stdin (flow control on the whole connection)', async () => {
    const { client, id } = await startSleeper();
    const script = 'while [ ! -e /tmp/go ]; do sleep 0.1; done; exec wc -c';
    const { url } = await client.call('Exec', { container_id: id, cmd: ['sh', '-c', script], stdin: true, stdout: true });
    const { session } = await connect(String(url), EXEC_PROTOCOLS);
    const error = await session.openStream({ streamtype: 'error' });
    const stdin = await session.openStream({ streamtype: 'stdin' });
    const stdout = await session.openStream({ streamtype: 'stdout' });
    const total = 32 * 1024 * 1024;
    stdin.stream.write(Buffer.alloc(total, 0x61));
    // What the client could not hand to the kernel waits in its own socket and stream.
    const queued = (): number => session.socket.writableLength + stdin.stream.writableLength;
    let last = -1;
    while (queued() !== last) {
      last = queued();
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(queued() > total / 2, `the daemon read ${total - queued()} of ${total} bytes the command did not read`);
    await client.call('ExecSync', { container_id: id, cmd: ['touch', '/tmp/go'], timeout: 10 });
    stdin.stream.end();
    assert.equal((await stdout.text()).trim(), String(total));
    assert.deepEqual(JSON.parse(await error.text()), { metadata: {}, status: 'Success' });
  });

  it('refuses an upgrade without a protocol it knows, before using the token; refuses a stream type the exec did not ask for', async () => {
    const { client, id } = await startSleeper();
    const { url } = await client.call('Exec', { container_id: id, cmd: ['true'], stdout: true });
    const refused = await spdyUpgrade(String(url), ['v5.channel.k8s.io']);
    assert.equal(refused.status, 403);
    assert.match(refused.head, /\r\nX-Accepted-Stream-Protocol-Versions: v4\.channel\.k8s\.io\r\n/);
    assert.equal(refused.body, 'unable to upgrade: unable to negotiate protocol: client supports v5.channel.k8s.io, server accepts v4.channel.k8s.io, v3.channel.k8s.io, v2.channel.k8s.io, channel.k8s.io\n');
    const { session } = await connect(String(url), ['v4.channel.k8s.io']);
    const error = await session.openStream({ streamtype: 'error' });
    await assert.rejects(session.openStream({ streamtype: 'stderr' }), /the server did not accept stream streamtype=stderr: it was reset/);
    const stdout = await session.openStream({ streamtype: 'stdout' });
    assert.equal(await stdout.text(), '');
    assert.deepEqual(JSON.parse(await error.text()), { metadata: {}, status: 'Success' });
  });

  describe('port-forward', () => {
    /** One forwarded connection as kubectl makes it: error stream (half-closed at once), then data. */
    const forward = async (session: SpdyClientSession, port: string, requestId: string): Promise<{ data: SpdyClientStream; error: SpdyClientStream }> => {
      const headers = { streamtype: 'error', port, requestid: requestId };
      const error = await session.openStream(headers);
      error.stream.end(); // kubectl writes nothing on it
      const data = await session.openStream({ ...headers, streamtype: 'data' });
      return { data, error };
    };
    /** An HTTP/1.0 GET over a new forwarded connection; the client half-closes once the reply has ended. */
    const get = async (session: SpdyClientSession, path: string, requestId: string): Promise<{ reply: Buffer; error: string }> => {
      const { data, error } = await forward(session, '8080', requestId);
      data.stream.write(`GET ${path} HTTP/1.0\r\nHost: localhost\r\n\r\n`);
      const reply = await data.received;
      data.stream.end();
      return { reply, error: await error.text() };
    };

    it('forwards HTTP requests into the pod network namespace over error/data stream pairs, several at once, more than 64 KiB each', async () => {
      const { client, podId, pod } = await start();
      const script = 'mkdir -p /www && echo hello from the pod > /www/index.html && dd if=/dev/zero bs=1000 count=300 2>/dev/null | tr "\\0" x > /www/big && exec httpd -f -p 8080 -h /www';
      await startContainer(client, podId, pod, containerConfig('web', pods.image, ['sh', '-c', script]));

      // httpd starts in its own time: one connection per try until it answers.
      let page = '';
      for (let attempt = 0; attempt < 50 && !page.includes('hello from the pod'); attempt++) {
        const { url } = await client.call('PortForward', { pod_sandbox_id: podId, port: [8080] });
        const { session, head } = await connect(String(url), ['portforward.k8s.io']);
        assert.match(head, /\r\nX-Stream-Protocol-Version: portforward\.k8s\.io(\r\n|$)/);
        page = (await get(session, '/', '0')).reply.toString();
        session.destroy();
        if (!page.includes('hello from the pod')) await new Promise((r) => setTimeout(r, 200));
      }
      assert.match(page, /^HTTP\/1\.[01] 200 OK/);
      assert.match(page, /hello from the pod\n$/);

      // One connection, three forwarded connections at once (kubectl makes a pair per local connection).
      const { url } = await client.call('PortForward', { pod_sandbox_id: podId, port: [8080] });
      const { session } = await connect(String(url), ['portforward.k8s.io']);
      const replies = await Promise.all([get(session, '/', '1'), get(session, '/big', '2'), get(session, '/', '3')]);
      for (const i of [0, 2]) {
        assert.match(replies[i]?.reply.toString() ?? '', /hello from the pod\n$/);
        assert.equal(replies[i]?.error, '');
      }
      const big = replies[1]?.reply ?? Buffer.alloc(0);
      const bodyAt = big.indexOf('\r\n\r\n') + 4;
      assert.match(big.subarray(0, bodyAt).toString(), /^HTTP\/1\.[01] 200 OK\r\n/);
      assert.equal(big.length - bodyAt, 300_000);
      assert.ok(big.subarray(bodyAt).every((b) => b === 0x78), 'the body of /big is not all x');
      assert.equal(replies[1]?.error, '');

      // A bad port: the message on the error stream, both streams ended, the connection still usable.
      const bad = await forward(session, '0', '9');
      assert.equal(await bad.error.text(), 'invalid port "0" in the port-forward stream: ports are 1-65535');
      assert.equal((await bad.data.received).length, 0);
      assert.match((await get(session, '/', '10')).reply.toString(), /hello from the pod\n$/);

      // A port nothing listens on in the pod: the relay's reason on the error stream, as the kubelet reports it.
      const refused = await forward(session, '8081', '11');
      assert.match(await refused.error.text(), /^error forwarding port 8081 in the pod's network namespace: .*Connection refused/);
      assert.equal((await refused.data.received).length, 0);
    });
  });
});
