import type { SpdyConnection, SpdyStream } from 'spdy-transport';
import { BUSYBOX_NC_RELAY, connect, type Connection, type PortForwardTarget, type RelayHelper } from './port-forward-session';
import { pauseIncoming, resumeIncoming, streamHeader } from './spdy-connection';
import { whenDrained } from './stream-drain';

// Port-forward over SPDY (portforward.k8s.io, the kubelet's httpstream handler): for each
// forwarded connection the client opens a pair of streams, `streamType: error` then `data`,
// both with `port` and `requestID`. When a pair is complete the server dials the port inside the
// pod's network namespace (the same relay as the WebSocket form) and copies bytes both ways;
// failures are written as text on the error stream. A pair ends when the pod side closes; the
// connection lives until the client closes it, which kills every relay still running.

/** How long the second stream of a pair may keep the client waiting (the kubelet's default). */
export const PAIR_CREATION_TIMEOUT_MS = 30_000;

interface Pair {
  error?: SpdyStream;
  data?: SpdyStream;
  timer: NodeJS.Timeout;
  relay?: Connection;
}

/**
 * The pair a stream belongs to: its `requestID`, or, for old clients that send none, one made
 * from the stream id the way the kubelet does (error and data streams have consecutive odd ids).
 */
export function portForwardRequestId(type: string, requestId: string | undefined, streamId: number): string {
  if (requestId !== undefined && requestId !== '') return requestId;
  return String(type === 'data' ? streamId - 2 : streamId);
}

/** A `port` header's value as a port number; throws with the message for the error stream. */
export function parsePortHeader(value: string | undefined): number {
  if (value === undefined || value === '') throw new Error('the port-forward stream has no port header');
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) throw new Error(`invalid port "${value}" in the port-forward stream: ports are 1-65535`);
  return port;
}

export function servePortForwardSpdy(
  connection: SpdyConnection,
  target: PortForwardTarget,
  relay: RelayHelper = BUSYBOX_NC_RELAY,
  onError: (error: unknown) => void = () => undefined,
  pairTimeoutMs = PAIR_CREATION_TIMEOUT_MS,
): void {
  const pairs = new Map<string, Pair>();
  let closed = false;

  const endPair = (id: string): void => {
    const pair = pairs.get(id);
    if (!pair) return;
    pairs.delete(id);
    clearTimeout(pair.timer);
    pair.relay?.close();
    pair.data?.end();
    pair.error?.end();
  };

  const startPair = (id: string, pair: Pair, error: SpdyStream, data: SpdyStream): void => {
    clearTimeout(pair.timer);
    const report = (message: string): void => {
      if (error.writable) error.write(message);
    };
    let port: number;
    try {
      port = parsePortHeader(streamHeader(data, 'port'));
    } catch (e) {
      report((e as Error).message);
      endPair(id);
      return;
    }
    const link = connect(target.netns, port, relay, report);
    pair.relay = link;
    link.input.on('error', () => undefined);
    link.output.on('error', () => undefined);
    // Flow control both ways: a pod side faster than the client waits for the data stream to
    // drain; a client faster than the pod side holds the whole connection until the relay drains.
    link.output.on('data', (chunk: Buffer) => {
      if (!data.writable || data.write(chunk)) return;
      link.output.pause();
      whenDrained([data], () => link.output.resume());
    });
    void link.ended.then(() => endPair(id));
    data.on('data', (chunk: Buffer) => {
      if (!link.input.writable || link.input.write(chunk)) return;
      pauseIncoming(connection);
      whenDrained([link.input], () => resumeIncoming(connection));
    });
    // The client half-closes when its local connection has nothing more to send.
    data.on('end', () => link.input.end());
    // Closed without this side having ended it: reset by the client, so the relay goes too.
    data.on('close', () => endPair(id));
  };

  connection.on('error', (error: Error) => {
    if (!closed) onError(error);
  });
  connection.on('close', () => {
    closed = true;
    for (const id of [...pairs.keys()]) endPair(id);
  });
  connection.on('stream', (stream: SpdyStream) => {
    stream.on('error', () => undefined);
    const type = streamHeader(stream, 'streamtype') ?? '';
    if (type !== 'error' && type !== 'data') {
      stream.abort();
      return;
    }
    const id = portForwardRequestId(type, streamHeader(stream, 'requestid'), stream.id);
    let pair = pairs.get(id);
    if (pair?.[type]) {
      stream.abort(); // a second stream of the same type for one request
      return;
    }
    stream.respond(200, {});
    if (!pair) {
      const created: Pair = { timer: setTimeout(() => endPair(id), pairTimeoutMs) };
      pairs.set(id, created);
      pair = created;
    }
    pair[type] = stream;
    if (type === 'error') stream.resume(); // the client sends nothing on it
    if (pair.error && pair.data) startPair(id, pair, pair.error, pair.data);
  });
}
