import { spawn } from 'node:child_process';
import * as net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import type { WebSocket } from 'ws';
import { channelCodec, parsePorts, portPrefix } from './channel-protocol';
import { WebSocketSender } from './ws-sender';
import { whenDrained } from './stream-drain';

// One port-forward over a WebSocket (the kubelet's websocket style: v4.channel.k8s.io, its base64
// variant v4.base64.channel.k8s.io, and our portforward.k8s.io): for the i-th port, channel 2i
// carries data and 2i+1 errors, and the first message the server sends on each starts with the
// port (2 bytes, little-endian). The framing (channel byte, or digit and base64 text) follows
// the negotiated subprotocol, which the socket itself knows. Each port gets one TCP connection to
// 127.0.0.1:<port> inside the pod's network namespace, made by a relay helper run under
// `nsenter --net=<netns>` (busybox nc, or socat where installed); host-network pods are dialled
// directly. The socket closes when every connection has ended.

export interface PortForwardTarget {
  readonly sandboxId: string;
  /** The pod's pinned network namespace file, or 'host'. */
  readonly netns: string;
  /** Ports from the PortForward request; the URL's `port` query, when present, takes precedence. */
  readonly ports: readonly number[];
}

/** The program that relays stdin/stdout to 127.0.0.1:<port>; `nsenter` runs it in the pod's netns. */
export interface RelayHelper {
  readonly nsenter: string;
  argv(port: number): string[];
}

export const BUSYBOX_NC_RELAY: RelayHelper = {
  nsenter: 'nsenter',
  argv: (port) => ['/bin/busybox', 'nc', '127.0.0.1', String(port)],
};

export interface Connection {
  readonly input: Writable;
  readonly output: Readable;
  /**
   * Settles when the connection is over and any failure has been reported; sessions end a
   * connection's streams on this, not on `output` closing, or the reason would come too late.
   */
  readonly ended: Promise<void>;
  close(): void;
}

export function servePortForward(ws: WebSocket, query: URLSearchParams, target: PortForwardTarget, relay: RelayHelper = BUSYBOX_NC_RELAY): void {
  let ports: number[];
  try {
    ports = parsePorts(query);
  } catch (error) {
    ws.close(1008, (error as Error).message.slice(0, 120));
    return;
  }
  if (ports.length === 0) ports = [...target.ports];
  if (ports.length === 0) {
    ws.close(1008, 'no port to forward: give ?port=N in the URL or ports in PortForward');
    return;
  }
  const codec = channelCodec(ws.protocol);
  const sender = new WebSocketSender(ws);
  const send = (channel: number, data: Buffer | string): boolean => sender.send(codec.encode(channel, data));
  // Flow control both ways: a pod side faster than the client pauses its relay until the socket
  // drains; a client faster than the pod side pauses the socket until every relay has drained.
  let blockedInputs = 0;
  let open = ports.length;
  const connections = ports.map((port, i) => {
    send(2 * i, portPrefix(port));
    send(2 * i + 1, portPrefix(port));
    const connection = connect(target.netns, port, relay, (message) => send(2 * i + 1, message));
    connection.output.on('data', (chunk: Buffer) => {
      if (send(2 * i, chunk)) return;
      connection.output.pause();
      sender.whenDrained(() => connection.output.resume());
    });
    connection.output.on('error', () => undefined);
    connection.input.on('error', () => undefined);
    void connection.ended.then(() => {
      open--;
      if (open === 0 && ws.readyState === ws.OPEN) ws.close(1000);
    });
    return connection;
  });

  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    const message = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    const parsed = codec.decode(message);
    // Only data channels (even) are written; a client has nothing to say on an error channel.
    if (parsed.kind !== 'data' || parsed.channel % 2 !== 0) return;
    const connection = connections[parsed.channel / 2];
    if (!connection?.input.writable || connection.input.write(parsed.data)) return;
    if (blockedInputs++ === 0) ws.pause();
    whenDrained([connection.input], () => {
      if (--blockedInputs === 0) ws.resume();
    });
  });
  ws.on('close', () => {
    for (const connection of connections) connection.close();
  });
}

export function connect(netns: string, port: number, relay: RelayHelper, reportError: (message: string) => void): Connection {
  if (netns === 'host') {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', (error) => reportError(`error forwarding port ${port} to the host network: ${error.message}`));
    // 'close' comes after 'error', so the report is out by then.
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    return { input: socket, output: socket, ended, close: () => socket.destroy() };
  }
  const child = spawn(relay.nsenter, [`--net=${netns}`, ...relay.argv(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString();
  });
  const ended = new Promise<void>((resolve) => {
    child.on('error', (error) => {
      reportError(`error forwarding port ${port}: cannot run ${relay.nsenter}: ${error.message}`);
      resolve();
    });
    // 'close' (not 'exit'): the relay's stderr is read to the end, so the reason is whole.
    child.on('close', (code) => {
      if (code !== 0 && code !== null) reportError(`error forwarding port ${port} in the pod's network namespace: ${stderr.trim() || `relay exited with ${code}`}`);
      resolve();
    });
  });
  return {
    input: child.stdin,
    output: child.stdout,
    ended,
    close: () => {
      child.stdin.end();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
