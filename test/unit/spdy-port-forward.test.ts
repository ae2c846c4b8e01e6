import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { acceptSpdyUpgrade } from '../../core/streaming/spdy-connection';
import { parsePortHeader, portForwardRequestId, servePortForwardSpdy } from '../../core/streaming/spdy-port-forward-session';
import { spdyUpgrade, type SpdyClientSession } from '../support/spdy-client';

// Port-forward over SPDY without a pod: a host-network target, so each pair of streams becomes
// a TCP connection to 127.0.0.1 on this machine, here to an echo server the test runs.

describe('SPDY port-forward', () => {
  it('reads the port header, refusing anything but 1-65535', () => {
    assert.equal(parsePortHeader('8080'), 8080);
    assert.throws(() => parsePortHeader(undefined), /^Error: the port-forward stream has no port header$/);
    assert.throws(() => parsePortHeader('0'), /^Error: invalid port "0" in the port-forward stream: ports are 1-65535$/);
    assert.throws(() => parsePortHeader('65536'), /invalid port "65536"/);
    assert.throws(() => parsePortHeader('80a'), /invalid port "80a"/);
  });

  it('pairs streams by requestID, or by stream id for clients that send none (error n, data n+2)', () => {
    assert.equal(portForwardRequestId('error', '7', 1), '7');
    assert.equal(portForwardRequestId('data', '7', 3), '7');
    assert.equal(portForwardRequestId('error', undefined, 5), '5');
    assert.equal(portForwardRequestId('data', '', 7), '5');
  });

  describe('a session to the host network', () => {
    let server: http.Server;
    let echo: net.Server;
    let echoPort: number;
    let closedPort: number;
    let session: SpdyClientSession | undefined;
    /** What the echo server saw of each connection: everything, once the client half-closed. */
    const seen: string[] = [];

    beforeEach(async () => {
      seen.length = 0;
      echo = net.createServer({ allowHalfOpen: true }, (socket) => {
        let text = '';
        socket.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          socket.write(chunk);
        });
        // Answers the half-close by closing, as a server does after its last reply.
        socket.on('end', () => {
          seen.push(text);
          socket.end();
        });
      });
      await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', () => resolve()));
      echoPort = (echo.address() as AddressInfo).port;
      // A port nothing listens on: bound, read, released.
      const probe = net.createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
      closedPort = (probe.address() as AddressInfo).port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));

      server = http.createServer();
      server.on('upgrade', (_req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
        servePortForwardSpdy(acceptSpdyUpgrade(socket, head, 'portforward.k8s.io'), { sandboxId: 'test', netns: 'host', ports: [] });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      const answer = await spdyUpgrade(`http://127.0.0.1:${(server.address() as AddressInfo).port}/portforward/x`, ['portforward.k8s.io']);
      assert.equal(answer.status, 101);
      session = answer.session;
    });
    afterEach(async () => {
      session?.destroy();
      session = undefined;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => echo.close(() => resolve()));
    });

    const open = async (port: number, requestId?: string): Promise<{ data: Awaited<ReturnType<SpdyClientSession['openStream']>>; error: Awaited<ReturnType<SpdyClientSession['openStream']>> }> => {
      assert.ok(session);
      const headers: Record<string, string> = { streamtype: 'error', port: String(port) };
      if (requestId !== undefined) headers.requestid = requestId;
      const error = await session.openStream(headers);
      error.stream.end();
      const data = await session.openStream({ ...headers, streamtype: 'data' });
      return { data, error };
    };

    it('relays each pair both ways; the client half-closing its data stream half-closes the TCP connection', async () => {
      const pairs = await Promise.all([open(echoPort, '1'), open(echoPort, '2')]);
      // Without a requestID (old clients) a pair is two consecutive streams, so it is opened alone.
      pairs.push(await open(echoPort));
      pairs.forEach(({ data }, i) => data.stream.end(`hello ${i}`));
      for (const [i, { data, error }] of pairs.entries()) {
        assert.equal(await data.text(), `hello ${i}`);
        assert.equal(await error.text(), '');
      }
      assert.deepEqual([...seen].sort(), ['hello 0', 'hello 1', 'hello 2']);
    });

    it('moves 2 MiB through one pair, with a client that never sends a WINDOW_UPDATE', async () => {
      const { data } = await open(echoPort, '1');
      const payload = Buffer.alloc(2 << 20, 'port-forward ');
      data.stream.end(payload);
      const back = await data.received;
      assert.equal(back.length, payload.length);
      assert.ok(back.equals(payload));
    });

    it('says on the error stream why a connection failed, and ends both streams', async () => {
      const { data, error } = await open(closedPort, '1');
      assert.match(await error.text(), new RegExp(`^error forwarding port ${closedPort} to the host network: connect ECONNREFUSED 127\\.0\\.0\\.1:${closedPort}$`));
      assert.equal((await data.received).length, 0);
    });

    it('refuses a stream that is neither error nor data, and a second stream of one type for a request', async () => {
      assert.ok(session);
      await assert.rejects(session.openStream({ streamtype: 'stdin', port: '1', requestid: '1' }), /it was reset/);
      await session.openStream({ streamtype: 'error', port: String(echoPort), requestid: '2' });
      await assert.rejects(session.openStream({ streamtype: 'error', port: String(echoPort), requestid: '2' }), /it was reset/);
    });
  });
});
