// The Kubernetes channel framing over WebSocket (k8s.io/apimachinery wsstream and the v5
// remotecommand protocol): every binary message starts with a channel byte. The base64 variants
// (for peers that can only send text, such as browsers of old) send TEXT messages instead: the
// channel as a digit character ('0' + channel) followed by the data in standard base64, both ways.
// Pure functions, unit-tested without a server.

/** The base64 subprotocols the kubelet accepts (wsstream's Base64ChannelWebSocketProtocol, with "v4." for Status JSON). */
export const BASE64_SUBPROTOCOLS = ['v4.base64.channel.k8s.io', 'base64.channel.k8s.io'] as const;
/** Our preference: the binary protocols first (no 4/3 inflation), the newest first within each framing. */
export const EXEC_SUBPROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io', 'channel.k8s.io', 'base64.channel.k8s.io'] as const;
export type ExecSubprotocol = (typeof EXEC_SUBPROTOCOLS)[number];
/** The kubelet's port-forward accepts v4.channel.k8s.io and v4.base64.channel.k8s.io; portforward.k8s.io is kept for our older clients. */
export const PORT_FORWARD_SUBPROTOCOLS = ['portforward.k8s.io', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io'] as const;

export const enum Channel {
  Stdin = 0,
  Stdout = 1,
  Stderr = 2,
  Error = 3,
  Resize = 4,
}
/** v5: a message [255, n] says the client closed channel n (stdin half-close). */
export const CLOSE_CHANNEL = 255;

/** Our first preference that the client offers; undefined when it offers none of them. */
export function chooseSubprotocol<T extends string>(offered: Iterable<string>, supported: readonly T[]): T | undefined {
  const set = new Set(offered);
  return supported.find((p) => set.has(p));
}

export function frame(channel: number, data: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  return Buffer.concat([Buffer.from([channel]), body]);
}

export type ClientMessage =
  | { readonly kind: 'data'; readonly channel: number; readonly data: Buffer }
  | { readonly kind: 'close'; readonly channel: number }
  | { readonly kind: 'empty' }
  /** A frame that cannot be decoded (base64 only); dropped, as the kubelet drops it. */
  | { readonly kind: 'invalid'; readonly reason: string };

/** Splits a client message; `v5` decides whether 255 means close-of-channel. */
export function parseClientMessage(message: Buffer, v5: boolean): ClientMessage {
  const channel = message[0];
  if (channel === undefined) return { kind: 'empty' };
  if (v5 && channel === CLOSE_CHANNEL) {
    const closed = message[1];
    return closed === undefined ? { kind: 'empty' } : { kind: 'close', channel: closed };
  }
  return { kind: 'data', channel, data: message.subarray(1) };
}

const DIGIT_ZERO = 0x30;
/** Standard, padded base64, as Go's base64.StdEncoding.Decode accepts it (which skips CR and LF). */
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function isBase64Subprotocol(subprotocol: string): boolean {
  return (BASE64_SUBPROTOCOLS as readonly string[]).includes(subprotocol);
}

/** A base64 frame: the channel digit, then the data in standard base64 (padded). Sent as TEXT. */
export function frameBase64(channel: number, data: Buffer | string = Buffer.alloc(0)): string {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  return String.fromCharCode(DIGIT_ZERO + channel) + body.toString('base64');
}

/**
 * Splits a base64 client message. There is no close-of-channel message in these protocols
 * (that is v5 only): a client closes stdin by closing the socket. Buffer.from(…, 'base64')
 * skips what it cannot read, so the text is checked first: a corrupt frame is reported, not
 * half-delivered.
 */
export function parseBase64ClientMessage(message: Buffer | string): ClientMessage {
  const bytes = typeof message === 'string' ? Buffer.from(message) : message;
  const first = bytes[0];
  if (first === undefined) return { kind: 'empty' };
  if (first < DIGIT_ZERO) return { kind: 'invalid', reason: `a base64 frame starts with the channel digit, not byte ${first}` };
  const text = bytes.subarray(1).toString('latin1').replace(/[\r\n]/g, '');
  if (!STRICT_BASE64.test(text)) return { kind: 'invalid', reason: `the data of a frame on channel ${first - DIGIT_ZERO} is not valid base64` };
  return { kind: 'data', channel: first - DIGIT_ZERO, data: Buffer.from(text, 'base64') };
}

/** How one negotiated subprotocol frames messages: binary channel bytes or base64 text. */
export interface ChannelCodec {
  readonly base64: boolean;
  /** A Buffer is sent as a binary message, a string as a text message. */
  encode(channel: number, data?: Buffer | string): Buffer | string;
  decode(message: Buffer): ClientMessage;
}

export function channelCodec(subprotocol: string): ChannelCodec {
  if (isBase64Subprotocol(subprotocol)) return { base64: true, encode: frameBase64, decode: parseBase64ClientMessage };
  const v5 = subprotocol === 'v5.channel.k8s.io';
  return { base64: false, encode: frame, decode: (message) => parseClientMessage(message, v5) };
}

/** Whether the error channel carries a Status JSON (v4 and later) rather than a failure's bare text. */
export function carriesStatusJson(subprotocol: string): boolean {
  return subprotocol === 'v5.channel.k8s.io' || subprotocol === 'v4.channel.k8s.io' || subprotocol === 'v4.base64.channel.k8s.io';
}

/** A Kubernetes `Status` (metav1.Status) as exec's error channel carries it (v4 and later). */
export interface KubeStatus {
  readonly metadata: Record<string, never>;
  readonly status: 'Success' | 'Failure';
  readonly message?: string;
  readonly reason?: string;
  readonly details?: { readonly causes: readonly { readonly reason: string; readonly message: string }[] };
}

export function successStatus(): KubeStatus {
  return { metadata: {}, status: 'Success' };
}

export function exitCodeStatus(exitCode: number): KubeStatus {
  if (exitCode === 0) return successStatus();
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command, exit status ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

export function failureStatus(message: string): KubeStatus {
  return { metadata: {}, status: 'Failure', message };
}

/** Port-forward: the 2-byte little-endian port every channel's first message carries. */
export function portPrefix(port: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(port);
  return b;
}

/**
 * Ports from a port-forward URL's query: `port` (kubelet: repeatable, comma-separated) or
 * `ports`. Throws with a message for the client on a bad value.
 */
export function parsePorts(query: URLSearchParams): number[] {
  const values = [...query.getAll('port'), ...query.getAll('ports')];
  const ports: number[] = [];
  for (const value of values) {
    for (const part of value.split(',')) {
      const port = Number(part.trim());
      if (!/^\d+$/.test(part.trim()) || port < 1 || port > 65535) throw new Error(`invalid port "${part}" in the port-forward URL: ports are 1-65535`);
      ports.push(port);
    }
  }
  return ports;
}
