import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as path from 'node:path';
import { packageInfo } from '../package-info';

// Loads Caisson's copy of the CRI protos (v1 and v1alpha2) for the server and the CLI client.
// The options must match those used to generate core/cri/generated (see package.json "gen:proto").

export const PROTO_LOAD_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

export type CriApiVersion = 'v1' | 'v1alpha2';

export interface CriServices {
  readonly RuntimeService: grpc.ServiceClientConstructor;
  readonly ImageService: grpc.ServiceClientConstructor;
}

const cache = new Map<CriApiVersion, CriServices>();
let caissonCache: CaissonServices | undefined;

/** Caisson's own services (core/cri/proto/caisson/v1), served beside CRI. */
export interface CaissonServices {
  readonly Images: grpc.ServiceClientConstructor;
}

export function protoDir(): string {
  return path.join(packageInfo().root, 'core', 'cri', 'proto');
}

export function loadCriServices(version: CriApiVersion): CriServices {
  const hit = cache.get(version);
  if (hit) return hit;
  const definition = protoLoader.loadSync(path.join('runtime', version, 'api.proto'), {
    ...PROTO_LOAD_OPTIONS,
    includeDirs: [protoDir()],
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    runtime: Record<CriApiVersion, CriServices>;
  };
  const services = loaded.runtime[version];
  cache.set(version, services);
  return services;
}

export function loadCaissonServices(): CaissonServices {
  if (caissonCache) return caissonCache;
  const definition = protoLoader.loadSync(path.join('caisson', 'v1', 'caisson.proto'), {
    ...PROTO_LOAD_OPTIONS,
    includeDirs: [protoDir()],
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as { caisson: { v1: CaissonServices } };
  caissonCache = loaded.caisson.v1;
  return caissonCache;
}
