import * as net from 'node:net';
import type { CriClient } from '../cri-client';
import { forwardConnection } from '../streaming/port-forward-client';

// `caisson port-forward POD [LOCAL_PORT:]REMOTE_PORT...`: listens on 127.0.0.1 (never another
// interface) and forwards each accepted connection into the pod, until SIGINT or SIGTERM. The
// kubelet's WebSocket port-forward protocol gives each port one data/error channel pair for the
// life of the socket (kubectl multiplexes connections as SPDY streams instead), and streaming
// URLs work once: so every connection gets its own PortForward call and its own WebSocket.

export interface PortPair {
  /** 0: a free port. */
  readonly local: number;
  readonly remote: number;
}

/** As kubectl reads them: `PORT` (the same port on both sides), `LOCAL:REMOTE`, and `:REMOTE` or `0:REMOTE` (a free local port). */
export function parsePortPair(spec: string): PortPair {
  const match = /^(?:(\d*)(:))?(\d+)$/.exec(spec.trim());
  const remote = Number(match?.[3]);
  const local = match?.[2] === undefined ? remote : Number(match[1] || '0');
  if (!match || local > 65535 || remote < 1 || remote > 65535) {
    throw new Error(`port-forward: "${spec}" is not [LOCAL_PORT:]REMOTE_PORT (ports 1-65535; PORT alone uses the same local port, :REMOTE or 0:REMOTE a free one)`);
  }
  return { local, remote };
}

export async function portForwardCommand(client: CriClient, podId: string, specs: readonly string[]): Promise<void> {
  const pairs = specs.map(parsePortPair);
  if (pairs.length === 0) throw new Error('port-forward needs at least one port: caisson port-forward POD [LOCAL_PORT:]REMOTE_PORT...');
  // One call up front, so an unknown or stopped pod fails now rather than at the first connection.
  await client.call('PortForward', { pod_sandbox_id: podId, port: pairs.map((p) => p.remote) });

  const connections = new Set<net.Socket>();
  const servers: net.Server[] = [];
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  try {
    for (const pair of pairs) {
      const server = net.createServer({ allowHalfOpen: true }, (local) => {
        connections.add(local);
        // A reset by the local client ends in `close`; unhandled, it would end the whole command.
        local.on('error', () => undefined);
        local.once('close', () => connections.delete(local));
        const localPort = (server.address() as net.AddressInfo).port;
        process.stdout.write(`Handling connection for ${localPort}\n`);
        forward(client, podId, pair.remote, local).catch((error: unknown) => {
          local.destroy();
          process.stderr.write(`caisson: an error occurred forwarding ${localPort} -> ${pair.remote}: ${error instanceof Error ? error.message : String(error)}\n`);
        });
      });
      servers.push(server);
      await listen(server, pair);
      process.stdout.write(`Forwarding from 127.0.0.1:${(server.address() as net.AddressInfo).port} -> ${pair.remote}\n`);
    }
    await stopped;
  } finally {
    for (const server of servers) server.close();
    for (const connection of connections) connection.destroy();
  }
}

/** A fresh URL for this connection (tokens work once), then the session. */
async function forward(client: CriClient, podId: string, remotePort: number, local: net.Socket): Promise<void> {
  const { url } = await client.call('PortForward', { pod_sandbox_id: podId, port: [remotePort] });
  await forwardConnection(local, String(url), remotePort);
}

function listen(server: net.Server, pair: PortPair): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`cannot listen on 127.0.0.1:${pair.local} to forward port ${pair.remote}: ${error.message}`)));
    server.listen(pair.local, '127.0.0.1', () => resolve());
  });
}
