import * as net from 'node:net';
import { connection as spdyConnection, type SpdyConnection, type SpdyStream } from 'spdy-transport';

// A SPDY/3.1 client for the streaming tests that behaves on the wire like Kubernetes' own
// (client-go's remotecommand and portforward over apimachinery's httpstream/spdy and
// moby/spdystream), built on spdy-transport's client side and nothing of the server's:
// - the upgrade is an HTTP/1.1 POST with `Upgrade: SPDY/3.1` and one X-Stream-Protocol-Version
//   header per protocol offered;
// - a stream's SYN_STREAM goes out when the stream is created, and creation waits for the
//   SYN_REPLY (apimachinery's CreateStream), so streams reach the server in creation order;
// - SYN_STREAMs carry only the Kubernetes headers (streamType, port, requestID), no `:method`,
//   `:path` or other HTTP pseudo-headers;
// - no flow control: spdystream sends neither SETTINGS nor WINDOW_UPDATE, so a server that waits
//   for window updates before writing more than 64 KiB stalls here as it would with kubectl;
// - closing a stream is a half-close (a DATA frame with FIN), resetting it is RST_STREAM.

/** How long a stream may wait for its SYN_REPLY (apimachinery's createStreamResponseTimeout). */
const STREAM_REPLY_TIMEOUT_MS = 30_000;

export interface SpdyUpgradeAnswer {
  readonly status: number;
  /** The response head: status line and headers, without the blank line. */
  readonly head: string;
  /** The body of a refusal (read to the end of the connection); '' after a 101. */
  readonly body: string;
  /** The SPDY session, after a 101. */
  readonly session?: SpdyClientSession;
}

/** Sends the upgrade request for `url` offering `protocols`; on 101 starts a SPDY client session. */
export function spdyUpgrade(url: string, protocols: readonly string[]): Promise<SpdyUpgradeAnswer> {
  const { hostname, port, pathname, search } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.off('error', reject);
      const head = received.subarray(0, end).toString();
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
      let rest = received.subarray(end + 4);
      if (status !== 101) {
        socket.on('data', (more: Buffer) => (rest = Buffer.concat([rest, more])));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve({ status, head, body: rest.toString() }));
        return;
      }
      socket.pause();
      if (rest.length > 0) socket.unshift(rest);
      resolve({ status, head, body: '', session: new SpdyClientSession(socket) });
    };
    socket.on('data', onData);
    socket.on('error', reject);
    socket.write(
      `POST ${pathname}${search} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n` +
        protocols.map((p) => `X-Stream-Protocol-Version: ${p}\r\n`).join('') +
        'Content-Length: 0\r\n\r\n',
    );
  });
}

/** One stream the client opened, with what the server sends on it collected as it comes. */
export interface SpdyClientStream {
  readonly stream: SpdyStream;
  /** Everything the server sent, once it half-closed the stream; rejects if the stream was reset or the connection dropped first. */
  readonly received: Promise<Buffer>;
  /** `received` as text. */
  text(): Promise<string>;
}

interface SpdyInternals {
  _spdyState?: {
    framer?: {
      headersToDict?: (headers: unknown, preprocess: unknown, callback: unknown) => void;
      settingsFrame?: (...args: unknown[]) => void;
      windowUpdateFrame?: (...args: unknown[]) => void;
    };
  };
}

export class SpdyClientSession {
  readonly connection: SpdyConnection;
  /** Resolves when the underlying socket has closed. */
  readonly closed: Promise<void>;

  constructor(readonly socket: net.Socket) {
    this.connection = spdyConnection.create(socket, { protocol: 'spdy', isServer: false });
    behaveLikeSpdystream(this.connection);
    this.connection.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    this.connection.start(3);
  }

  /**
   * Creates a stream with `headers` (sent as given, lower-case), and waits for the server's
   * SYN_REPLY; rejects if the server resets the stream or does not answer in time.
   */
  openStream(headers: Record<string, string>, timeoutMs = STREAM_REPLY_TIMEOUT_MS): Promise<SpdyClientStream> {
    const stream = this.connection.request({ path: '/', headers });
    // Now, not on the next tick as request() would: a later stream's SYN_STREAM must not overtake it.
    stream.send();
    const chunks: Buffer[] = [];
    const received = new Promise<Buffer>((resolve, reject) => {
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => resolve(Buffer.concat(chunks)));
      stream.on('error', (error: Error) => reject(new Error(`stream ${describe(headers)}: ${error.message}`)));
      // spdy-transport emits 'close' from inside its own 'end' listener, before this one's 'end'.
      stream.on('close', () => process.nextTick(() => reject(new Error(`stream ${describe(headers)} closed before the server ended it (reset, or the connection dropped)`))));
    });
    received.catch(() => undefined); // a test that does not read it must not see an unhandled rejection
    const opened: SpdyClientStream = { stream, received, text: async () => (await received).toString() };
    return new Promise((resolve, reject) => {
      const settle = (why?: string): void => {
        clearTimeout(timer);
        stream.off('response', onReply);
        stream.off('close', onReset);
        this.socket.off('close', onDropped);
        if (why === undefined) resolve(opened);
        else reject(new Error(`the server did not accept stream ${describe(headers)}: ${why}`));
      };
      const onReply = (): void => settle();
      const onReset = (): void => settle('it was reset');
      const onDropped = (): void => settle('the connection closed');
      const timer = setTimeout(() => settle(`no SYN_REPLY within ${timeoutMs} ms`), timeoutMs);
      stream.once('response', onReply);
      stream.once('close', onReset);
      this.socket.once('close', onDropped);
    });
  }

  /** Drops the connection (what a client does when it is done or killed). */
  destroy(): void {
    this.socket.destroy();
  }
}

function describe(headers: Record<string, string>): string {
  return Object.entries(headers)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/**
 * Makes spdy-transport's client framer write what spdystream writes: SYN_STREAM header blocks
 * without the HTTP pseudo-headers it adds itself, no SETTINGS and no WINDOW_UPDATE frames.
 */
function behaveLikeSpdystream(connection: SpdyConnection): void {
  const framer = (connection as unknown as SpdyInternals)._spdyState?.framer;
  const headersToDict = framer?.headersToDict;
  if (!framer || !headersToDict || !framer.settingsFrame || !framer.windowUpdateFrame) {
    throw new Error('spdy-transport changed: its framer no longer has headersToDict/settingsFrame/windowUpdateFrame, which the test client patches');
  }
  framer.headersToDict = function (this: unknown, headers, _preprocess, callback) {
    return headersToDict.call(this, headers, undefined, callback);
  };
  framer.settingsFrame = () => undefined;
  framer.windowUpdateFrame = () => undefined;
}
