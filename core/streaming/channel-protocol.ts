// The Kubernetes channel framing over WebSocket (k8s.io/apimachinery wsstream and the v5
// remotecommand protocol): every binary message starts with a channel byte. Pure functions,
// unit-tested without a server.

export const EXEC_SUBPROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'channel.k8s.io'] as const;
export type ExecSubprotocol = (typeof EXEC_SUBPROTOCOLS)[number];
export const PORT_FORWARD_SUBPROTOCOLS = ['portforward.k8s.io', 'v4.channel.k8s.io'] as const;

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
  | { readonly kind: 'empty' };

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
