import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { StreamingServer } from '../../core/streaming/streaming-server';

/** Opens `url` and answers the first message, or the HTTP status and body of a refused upgrade. */
function open(url: string, protocols: string[]): Promise<{ message?: Buffer; protocol?: string; status?: number; body?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    ws.on('message', (data: Buffer) => {
      resolve({ message: data, protocol: ws.protocol });
      ws.close();
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    ws.on('error', (error) => reject(error));
  });
}

describe('streaming server', () => {
  let server: StreamingServer;
  beforeEach(async () => {
    server = new StreamingServer({ port: 0 });
    await server.start();
  });
  afterEach(async () => server.close());

  const hello = (kind: 'exec' | 'portforward'): string =>
    server.register({ kind, serve: (ws, protocol, query) => ws.send(Buffer.from(`${protocol} ${query.get('port') ?? ''}`)) });

  it('serves a token once on 127.0.0.1 with the negotiated subprotocol, then refuses it with 404', async () => {
    const url = hello('exec');
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/exec\/[A-Za-z0-9_-]{22}$/);
    const first = await open(url, ['v4.channel.k8s.io', 'v5.channel.k8s.io']);
    assert.equal(first.message?.toString(), 'v5.channel.k8s.io ');
    const again = await open(url, ['v5.channel.k8s.io']);
    assert.equal(again.status, 404);
    assert.equal(again.body, 'exec session not found: the token is unknown, already used or expired (tokens work once, within one minute)\n');
  });

  it('passes the query to port-forward sessions and refuses a token on the other kind of URL', async () => {
    const url = hello('portforward');
    const wrong = await open(url.replace('/portforward/', '/exec/'), ['v5.channel.k8s.io']);
    assert.equal(wrong.status, 404);
    assert.equal((await open(url, ['portforward.k8s.io'])).status, 404, 'a token tried on the wrong URL is used up');
    const ok = await open(`${hello('portforward')}?port=8080`, ['portforward.k8s.io']);
    assert.equal(ok.message?.toString(), 'portforward.k8s.io 8080');
  });

  it('refuses unsupported subprotocols without using the token, and plain GETs', async () => {
    const url = hello('exec');
    const refused = await open(url, ['v9.channel.k8s.io']);
    assert.equal(refused.status, 400);
    assert.equal(
      refused.body,
      'none of the offered subprotocols (v9.channel.k8s.io) is supported; use one of v5.channel.k8s.io, v4.channel.k8s.io, v4.base64.channel.k8s.io, channel.k8s.io, base64.channel.k8s.io\n',
    );
    const get = await fetch(url);
    assert.equal(get.status, 400);
    assert.match(await get.text(), /must be opened with a WebSocket upgrade/);
    assert.equal((await fetch(url.replace(/\/[^/]+$/, '/nope'))).status, 404);
    assert.equal((await open(url, ['channel.k8s.io'])).message?.toString(), 'channel.k8s.io ');
  });

  it('refuses an expired token', async () => {
    let now = 0;
    const clocked = new StreamingServer({ port: 0, tokens: { now: () => now } });
    await clocked.start();
    try {
      const url = clocked.register({ kind: 'exec', serve: (ws) => ws.close() });
      now = 60_000;
      assert.equal((await open(url, ['v5.channel.k8s.io'])).status, 404);
    } finally {
      await clocked.close();
    }
  });

  it('binds the configured address; bound to every interface, it hands out loopback URLs', async () => {
    const wide = new StreamingServer({ port: 0, host: '0.0.0.0' });
    await wide.start();
    try {
      const url = wide.register({ kind: 'attach', serve: (ws, protocol) => ws.send(Buffer.from(protocol)) });
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/attach\/[A-Za-z0-9_-]{22}$/);
      assert.equal((await open(url, ['v4.channel.k8s.io'])).message?.toString(), 'v4.channel.k8s.io');
    } finally {
      await wide.close();
    }
  });
});
