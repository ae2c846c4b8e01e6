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
  if (version === 'v1') return loadV1AndCaisson().v1;
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
  return caissonCache ?? loadV1AndCaisson().caisson;
}

/**
 * caisson.proto imports runtime/v1/api.proto, so loading it on its own parsed v1 a second time
 * into a second protobufjs Root (about 1 MiB of heap that stayed for the daemon's life). One
 * loadSync of both files shares one Root; the codecs are the same.
 */
function loadV1AndCaisson(): { v1: CriServices; caisson: CaissonServices } {
  const definition = protoLoader.loadSync([path.join('runtime', 'v1', 'api.proto'), path.join('caisson', 'v1', 'caisson.proto')], {
    ...PROTO_LOAD_OPTIONS,
    includeDirs: [protoDir()],
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    runtime: { v1: CriServices };
    caisson: { v1: CaissonServices };
  };
  cache.set('v1', loaded.runtime.v1);
  caissonCache = loaded.caisson.v1;
  return { v1: loaded.runtime.v1, caisson: loaded.caisson.v1 };
}
