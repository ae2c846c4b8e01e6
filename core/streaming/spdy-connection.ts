import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import type { SpdyConnection, SpdyStream } from 'spdy-transport';

// SPDY/3.1 upgrades as Kubernetes clients make them (k8s.io/apimachinery httpstream/spdy): an
// HTTP/1.1 request with `Upgrade: SPDY/3.1` and one `X-Stream-Protocol-Version` header per
// protocol the client speaks, in its order of preference; the server picks the first it knows,
// answers 101 with the chosen version, and the client opens one SPDY stream per purpose, told
// apart by a `streamType` header. The SPDY framing is spdy-transport's, on the upgraded socket.

export const SPDY_UPGRADE = 'spdy/3.1';
export const STREAM_PROTOCOL_HEADER = 'x-stream-protocol-version';
export const ACCEPTED_PROTOCOLS_HEADER = 'X-Accepted-Stream-Protocol-Versions';

/** Exec over SPDY, newest first (v5 is WebSocket-only). */
export const SPDY_EXEC_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'] as const;
export const SPDY_PORT_FORWARD_PROTOCOLS = ['portforward.k8s.io'] as const;

export function isSpdyUpgrade(req: http.IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === SPDY_UPGRADE;
}

/** The protocols a request offers, in its order (repeated headers and comma lists both count). */
export function offeredStreamProtocols(headers: http.IncomingHttpHeaders | readonly string[]): string[] {
  const raw = Array.isArray(headers) ? headers : rawHeaderValues(headers as http.IncomingHttpHeaders);
  return raw.flatMap((value) => value.split(',')).map((p) => p.trim()).filter((p) => p !== '');
}

function rawHeaderValues(headers: http.IncomingHttpHeaders): string[] {
  const value = headers[STREAM_PROTOCOL_HEADER];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** The client's first choice that the server supports (apimachinery's negotiateProtocol); undefined if none. */
export function negotiateStreamProtocol(offered: readonly string[], supported: readonly string[]): string | undefined {
  return offered.find((p) => supported.includes(p));
}

/** The first value of a stream header (spdy-transport gives repeated headers as arrays). */
export function streamHeader(stream: SpdyStream, name: string): string | undefined {
  const value = stream.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Answers 101 on `socket` and starts a SPDY server session on it. `head` (bytes the client sent
 * after the request) is given back to the socket first.
 */
export function acceptSpdyUpgrade(socket: Duplex, head: Buffer, protocol: string): SpdyConnection {
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`);
  if (head.length > 0) socket.unshift(head);
  // Loaded on the first SPDY connection: a daemon no client streams from never holds it.
  const { connection: spdyConnection } = require('spdy-transport') as typeof import('spdy-transport');
  const connection = spdyConnection.create(socket, { protocol: 'spdy', isServer: true, autoSpdy31: true });
  acceptStreamsWithoutHttpHeaders(connection);
  ignorePeerStreamWindows(connection);
  return connection;
}

interface WindowSide {
  update(size: number, callback?: () => void): void;
}

interface WithSendWindow {
  _spdyState?: { window?: { send?: WindowSide }; streamWindow?: { send?: WindowSide } };
}

/**
 * Kubernetes clients do no flow control: moby/spdystream never sends SETTINGS or WINDOW_UPDATE,
 * and the kubelet (spdystream too) never waits for one. spdy-transport keeps to the peer's
 * stream window, 64 KiB until a WINDOW_UPDATE raises it, so an exec's stdout or a forwarded
 * port's data would stop for good after 64 KiB. Writes on the client's streams therefore no
 * longer count against (or wait for) the peer's window, as with the kubelet. A peer that does
 * flow control copes: its receive window just goes below zero, and it still gets WINDOW_UPDATEs
 * for what it sends. (The session window only applies once a peer speaks SPDY/3.1 flow control
 * by sending a session WINDOW_UPDATE, which spdystream never does.)
 */
function ignorePeerStreamWindows(connection: SpdyConnection): void {
  const template = (connection as unknown as WithSendWindow)._spdyState?.streamWindow?.send;
  if (!template || typeof template.update !== 'function') {
    throw new Error('spdy-transport changed: its streams no longer have a send window to patch, and Kubernetes clients never send WINDOW_UPDATE');
  }
  // Registered before the session's own 'stream' listener, so it runs before anything is written.
  connection.on('stream', (stream: SpdyStream) => {
    const side = (stream as unknown as WithSendWindow)._spdyState?.window?.send;
    if (!side) return;
    side.update = (_size, callback) => {
      if (callback) process.nextTick(callback);
    };
  });
}

interface SpdyParser {
  onSynHeadFrame(type: number, flags: number, body: unknown, callback: (...args: unknown[]) => void): void;
  parseKVs(body: unknown, callback: (error: Error | null, headers?: Record<string, unknown>) => void): void;
}

/**
 * spdy-transport, built for HTTP over SPDY, refuses a SYN_STREAM without `:method` and `:path`
 * ("Missing `:method` and/or `:path` header") and drops the whole connection. Kubernetes clients
 * (moby/spdystream) send only their own headers (`streamType`, `port`, `requestID`). This gives
 * such SYN_STREAMs neutral pseudo-headers before that check; other frames are untouched.
 */
function acceptStreamsWithoutHttpHeaders(connection: SpdyConnection): void {
  const parser = (connection as unknown as { _spdyState?: { parser?: SpdyParser } })._spdyState?.parser;
  if (!parser || typeof parser.onSynHeadFrame !== 'function' || typeof parser.parseKVs !== 'function') {
    throw new Error('spdy-transport changed: its SPDY parser no longer has onSynHeadFrame/parseKVs, which Kubernetes clients need patched');
  }
  const onSynHeadFrame = parser.onSynHeadFrame;
  const parseKVs = parser.parseKVs;
  parser.onSynHeadFrame = function (this: SpdyParser, type, flags, body, callback) {
    if (type !== 0x01) return onSynHeadFrame.call(this, type, flags, body, callback);
    // onSynHeadFrame calls parseKVs synchronously; this call alone sees the wrapper.
    this.parseKVs = function (this: SpdyParser, kvs, done) {
      this.parseKVs = parseKVs;
      parseKVs.call(this, kvs, (error, headers) => {
        if (!error && headers) {
          headers[':method'] ??= 'POST';
          headers[':path'] ??= '/';
        }
        done(error, headers);
      });
    };
    try {
      return onSynHeadFrame.call(this, type, flags, body, callback);
    } finally {
      this.parseKVs = parseKVs;
    }
  };
}

/** How many holders keep each connection's reading paused. */
const pauseHolders = new WeakMap<SpdyConnection, number>();

/**
 * Stops reading frames from the client until every `pauseIncoming` has had its `resumeIncoming`:
 * the parser stops emitting, its buffers fill and the socket pipe pauses. Every stream of the
 * connection waits, not one: Go's spdystream ignores flow-control windows, so only TCP can hold it
 * back (as the kubelet's own blocking reads do).
 */
export function pauseIncoming(connection: SpdyConnection): void {
  const holders = pauseHolders.get(connection) ?? 0;
  pauseHolders.set(connection, holders + 1);
  if (holders === 0) incomingFrames(connection).pause();
}

export function resumeIncoming(connection: SpdyConnection): void {
  const holders = pauseHolders.get(connection) ?? 0;
  if (holders === 0) return;
  pauseHolders.set(connection, holders - 1);
  if (holders === 1) incomingFrames(connection).resume();
}

function incomingFrames(connection: SpdyConnection): { pause(): void; resume(): void } {
  const parser = (connection as unknown as { _spdyState?: { parser?: { pause?: unknown; resume?: unknown } } })._spdyState?.parser;
  if (!parser || typeof parser.pause !== 'function' || typeof parser.resume !== 'function') {
    throw new Error('spdy-transport changed: its SPDY parser is no longer a stream that can be paused');
  }
  return parser as { pause(): void; resume(): void };
}
