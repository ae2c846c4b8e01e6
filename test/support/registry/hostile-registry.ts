import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

// A registry that serves what a test crafts, byte for byte, on 127.0.0.1: manifests whose
// digests climb out of the content store, indexes whose entries lie about their content. A real
// docker-registry refuses to store such manifests, so a hostile one has to be written; it speaks
// just enough of the distribution API (GET /v2/, manifests, blobs) for a puller to reach them.

export interface CraftedObject {
  readonly body: Buffer | string;
  /** Content-Type of a manifest; blobs go as application/octet-stream. */
  readonly mediaType?: string;
}

export interface HostileRegistry {
  /** "127.0.0.1:PORT", for image references and insecure-registries. */
  readonly host: string;
  /** `/v2/<repo>/manifests/<reference>` and `/v2/<repo>/blobs/<digest>` by path; anything else is 404. */
  readonly objects: Map<string, CraftedObject>;
  /** Every path requested so far. */
  readonly requested: string[];
  stop(): Promise<void>;
}

export async function startHostileRegistry(): Promise<HostileRegistry> {
  const objects = new Map<string, CraftedObject>();
  const requested: string[] = [];
  const server = http.createServer((request, response) => {
    const url = request.url ?? '';
    requested.push(url);
    if (url === '/v2/' || url === '/v2') {
      response.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      return;
    }
    const found = objects.get(decodeURIComponent(url));
    if (!found) {
      response.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
      return;
    }
    const body = Buffer.from(found.body);
    response.writeHead(200, { 'Content-Type': found.mediaType ?? 'application/octet-stream', 'Content-Length': body.length });
    response.end(request.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let stopped = false;
  return {
    host: `127.0.0.1:${port}`,
    objects,
    requested,
    async stop() {
      if (stopped) return;
      stopped = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
