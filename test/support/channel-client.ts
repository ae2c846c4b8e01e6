import WebSocket from 'ws';

// A WebSocket client for the Kubernetes channel protocol (exec, attach and port-forward streams),
// written from the protocol's description with the `ws` package, as any peer would be, and
// nothing of the server's code:
// - binary framing (v4.channel.k8s.io, v5.channel.k8s.io, portforward.k8s.io): every binary
//   message starts with its channel byte (0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize);
//   v5 half-closes stdin with the message [255, 0];
// - base64 framing (base64.channel.k8s.io, v4.base64.channel.k8s.io, from wsstream): text
//   messages, the channel as a digit ('0' + channel), then the data in base64.

export type Framing = 'binary' | 'base64';

export interface ChannelClientOptions {
  /** How messages carry their channel and data; `binary` unless given. */
  readonly framing?: Framing;
  /** How long a wait may take before it fails with what arrived so far; WAIT_MS unless given. */
  readonly waitMs?: number;
}

/** Long enough for a busy, shared machine; a wait that runs out fails saying what it saw. */
export const WAIT_MS = 30_000;

/** At most this much of each channel goes into a failed wait's message (its end). */
const SEEN_CHARS = 2_000;

/** An open session: what arrived per channel so far, how to send, and how to wait for more. */
export class ChannelClient {
  /** Resolves with the close code once the socket has closed. */
  readonly closed: Promise<number>;
  private readonly received = new Map<number, Buffer[]>();
  private readonly changed = new Set<() => void>();
  private readonly framing: Framing;
  private readonly waitMs: number;
  private firstMessage: Buffer | undefined;
  private onlyText = true;
  private code: number | undefined;
  private socketError: Error | undefined;

  private constructor(readonly ws: WebSocket, options: ChannelClientOptions) {
    this.framing = options.framing ?? 'binary';
    this.waitMs = options.waitMs ?? WAIT_MS;
    ws.on('message', (data: Buffer, isBinary: boolean) => this.receive(data, isBinary));
    ws.on('error', (error) => {
      this.socketError ??= error;
      this.notify();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code) => {
        this.code = code;
        resolve(code);
        this.notify();
      }),
    );
  }

  /**
   * Opens `url` offering `protocols`. A refused upgrade rejects with `HTTP <status>: <body>`.
   * Everything the server sends is recorded from the start, before the socket opens.
   */
  static open(url: string, protocols: readonly string[], options: ChannelClientOptions = {}): Promise<ChannelClient> {
    const ws = new WebSocket(url, [...protocols]);
    const client = new ChannelClient(ws, options);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => reject(new Error(`HTTP ${res.statusCode}: ${body}`)));
      });
    });
  }

  /** The subprotocol the server chose. */
  get protocol(): string {
    return this.ws.protocol;
  }

  /** The first message the server sent, as it came (channel byte or digit included). */
  get first(): Buffer | undefined {
    return this.firstMessage;
  }

  /** Whether every message the server sent so far was a text message. */
  get allText(): boolean {
    return this.onlyText;
  }

  /** The close code, once the socket has closed. */
  get closeCode(): number | undefined {
    return this.code;
  }

  /** The first error the socket reported, if any. */
  get error(): Error | undefined {
    return this.socketError;
  }

  /** Whether any message (even an empty one) arrived on `channel`. */
  has(channel: number): boolean {
    return this.received.has(channel);
  }

  /** The data received on `channel` so far, in order, without the framing; empty if none. */
  bytes(channel: number): Buffer {
    const parts = this.received.get(channel);
    if (parts === undefined) return Buffer.alloc(0);
    if (parts.length > 1) parts.splice(0, parts.length, Buffer.concat(parts));
    return parts[0] ?? Buffer.alloc(0);
  }

  /** The data received on `channel` so far as UTF-8 text. */
  text(channel: number): string {
    return this.bytes(channel).toString();
  }

  /** Sends `data` on `channel` in this session's framing. */
  send(channel: number, data: string | Buffer): void {
    if (this.framing === 'base64') this.ws.send(String.fromCharCode(48 + channel) + Buffer.from(data).toString('base64'));
    else this.ws.send(Buffer.concat([Buffer.from([channel]), Buffer.from(data)]));
  }

  /** Asks for a terminal of `width` columns and `height` rows (the resize channel, 4). */
  resize(width: number, height: number): void {
    this.send(4, JSON.stringify({ Width: width, Height: height }));
  }

  /** Closes stdin and nothing else (v5.channel.k8s.io only). */
  halfCloseStdin(): void {
    if (this.framing === 'base64') throw new Error('the base64 subprotocols have no stdin half-close (v5.channel.k8s.io has)');
    this.ws.send(Buffer.from([255, 0]));
  }

  /**
   * Resolves with the text of `channel` once it matches `pattern` (or `pattern` returns true for
   * it); rejects if the socket closes first or nothing matches within the wait, with what was seen.
   */
  waitFor(channel: number, pattern: RegExp | ((text: string) => boolean), what?: string): Promise<string> {
    const matches = typeof pattern === 'function' ? pattern : (text: string): boolean => pattern.test(text);
    const described = what ?? (typeof pattern === 'function' ? `the awaited text on channel ${channel}` : `${String(pattern)} on channel ${channel}`);
    return this.until(described, () => {
      const text = this.text(channel);
      return matches(text) ? text : undefined;
    });
  }

  /** Resolves with the close code once the server has closed the socket; rejects after the wait. */
  waitForClose(): Promise<number> {
    return this.until('close of the socket', () => this.code, true);
  }

  private until<T>(what: string, check: () => T | undefined, closeIsFine = false): Promise<T> {
    return new Promise((resolve, reject) => {
      const attempt = (): void => {
        const value = check();
        if (value !== undefined) done(() => resolve(value));
        else if (this.code !== undefined && !closeIsFine) done(() => reject(new Error(`the socket closed (code ${this.code}) before ${what}; ${this.seen()}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no ${what} within ${this.waitMs} ms; ${this.seen()}`))), this.waitMs);
      const done = (settle: () => void): void => {
        clearTimeout(timer);
        this.changed.delete(attempt);
        settle();
      };
      this.changed.add(attempt);
      attempt();
    });
  }

  private receive(data: Buffer, isBinary: boolean): void {
    this.firstMessage ??= data;
    if (isBinary) this.onlyText = false;
    const frame = this.framing === 'base64' ? decodeBase64(data) : decodeBinary(data);
    if (frame !== undefined) {
      const parts = this.received.get(frame.channel);
      if (parts === undefined) this.received.set(frame.channel, [frame.data]);
      else parts.push(frame.data);
    }
    this.notify();
  }

  private notify(): void {
    for (const listener of [...this.changed]) listener();
  }

  private seen(): string {
    const channels = Object.fromEntries(
      [...this.received.keys()].map((channel) => {
        const text = this.text(channel);
        return [channel, text.length > SEEN_CHARS ? `…${text.slice(-SEEN_CHARS)}` : text];
      }),
    );
    const error = this.socketError === undefined ? '' : `, socket error: ${this.socketError.message}`;
    return `received so far: ${JSON.stringify(channels)}${error}`;
  }
}

interface Frame {
  readonly channel: number;
  readonly data: Buffer;
}

function decodeBinary(message: Buffer): Frame | undefined {
  const channel = message[0];
  return channel === undefined ? undefined : { channel, data: message.subarray(1) };
}

function decodeBase64(message: Buffer): Frame | undefined {
  const text = message.toString('latin1');
  if (text === '') return undefined;
  return { channel: text.charCodeAt(0) - 48, data: Buffer.from(text.slice(1), 'base64') };
}

/**
 * Opens `url` offering `protocols`, runs `drive` on the open session, and resolves with the
 * session once the socket has closed. Rejects with `HTTP <status>: <body>` for a refused upgrade
 * and with the socket's error if it reported one.
 */
export async function runSession(
  url: string,
  protocols: readonly string[],
  drive: (session: ChannelClient) => void = () => undefined,
  options: ChannelClientOptions = {},
): Promise<ChannelClient> {
  const session = await ChannelClient.open(url, protocols, options);
  drive(session);
  await session.closed;
  if (session.error !== undefined) throw session.error;
  return session;
}
