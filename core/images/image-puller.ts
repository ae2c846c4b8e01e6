import { killPoint } from '../crash/kill-point';
import { DataLossError, InvalidArgumentError, NotFoundError, UnavailableError, CaissonError } from '../errors';
import type { Logger } from '../log/logger';
import type { ContentStore } from './content-store';
import { chainIds } from './digest';
import { formatReference, digestedName, taggedName, type ImageReference } from './image-reference';
import type { ImageRecord, ImageRecords, LayerRecord } from './image-records';
import { unpackLayer } from './layer-unpacker';
import { checkConfig, checkIndex, checkManifest, parseRegistryJson } from './manifest-checks';
import { isIndex, isManifest, layerCompression, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest, type Platform } from './media-types';
import { formatPlatform, pickPlatformManifest } from './platform';
import { EndpointUnreachableError, RegistryClient, type FetchedManifest } from './registry/registry-client';
import type { RegistryCredentials } from './registry/registry-credentials';
import { isInsecure, registryEndpoints, type EndpointSettings } from './registry/registry-endpoints';
import { TokenFetcher } from './registry/token-fetcher';
import type { SnapshotStore } from './snapshot-store';

// Pulls an image: resolve the reference on the first endpoint that has it (mirrors first), pick
// the host's platform from an index, fetch the config and every layer (verified, at most a few
// at a time), unpack each layer into its snapshot, and only then record the image. Identical
// pulls in flight share one promise; blobs and snapshots shared by concurrent pulls are fetched
// and unpacked once.

const LAYER_CONCURRENCY = 3;

import type { PullProgress } from './image-types';

export type { PullProgress, PullProgressEvent } from './image-types';

const PROGRESS_INTERVAL_MS = 200;

export interface PullerDependencies {
  readonly content: ContentStore;
  readonly snapshots: SnapshotStore;
  readonly records: ImageRecords;
  readonly settings: EndpointSettings;
  readonly platform: Platform;
  readonly logger: Logger;
  /** Whether an image with these tags is pinned (the pod sandbox image is). */
  readonly isPinned: (refs: readonly string[]) => boolean;
}

export class ImagePuller {
  private readonly pulls = new Map<string, Promise<ImageRecord>>();
  private readonly blobs = new Map<string, Promise<void>>();
  /** Digests and chain IDs a pull in flight relies on; garbage collection leaves them alone. */
  readonly inUse = new Map<string, number>();

  constructor(private readonly deps: PullerDependencies) {}

  pull(reference: ImageReference, credentials: RegistryCredentials, progress?: PullProgress): Promise<ImageRecord> {
    const key = formatReference(reference);
    const running = this.pulls.get(key);
    if (running) return running;
    const work = this.pullOnce(reference, credentials, progress).finally(() => this.pulls.delete(key));
    this.pulls.set(key, work);
    return work;
  }

  private async pullOnce(reference: ImageReference, credentials: RegistryCredentials, progress?: PullProgress): Promise<ImageRecord> {
    const name = formatReference(reference);
    const started = Date.now();
    try {
      const tokens = new TokenFetcher(credentials, (realm) => isInsecure(realm.host, this.deps.settings));
      const { client, top } = await this.resolve(reference, tokens);
      const target = await this.platformManifest(client, top, name);
      const manifest = parseRegistryJson<ImageManifest>(target.bytes, `the manifest of ${name}`);
      checkManifest(manifest, name);
      // Held before they are written: a GC run by another pull's failure or a RemoveImage
      // would otherwise delete these manifests, which no record references yet.
      const held = [top.digest, target.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
      this.hold(held);
      try {
        this.deps.content.writeBytes(top.digest, top.bytes, `manifest of ${name}`);
        this.deps.content.writeBytes(target.digest, target.bytes, `manifest of ${name}`);
        killPoint('image-manifest-written');
        await this.fetchBlob(client, manifest.config, `config of ${name}`);
        const config = parseRegistryJson<ImageConfig>(this.deps.content.read(manifest.config.digest), `the config of ${name}`);
        checkConfig(config, name);
        const layers = this.layerRecords(manifest, config, name);
        this.hold(layers.map((l) => l.chainId));
        try {
          await this.fetchLayers(client, layers, name, progress);
        } finally {
          this.release(layers.map((l) => l.chainId));
        }
        const refs = [taggedName(reference), digestedName(reference, top.digest)].filter((r): r is string => r !== undefined);
        const record: ImageRecord = {
          id: manifest.config.digest,
          manifestDigest: target.digest,
          manifestMediaType: target.mediaType,
          config,
          configSize: manifest.config.size,
          layers,
          size: target.bytes.length + manifest.config.size + layers.reduce((sum, l) => sum + l.size, 0),
          pulledAt: new Date().toISOString(),
          pinned: this.deps.isPinned(refs),
        };
        this.deps.records.save(record, refs);
        killPoint('image-recorded');
        this.deps.logger.info(`pulled ${name}`, { id: record.id, layers: layers.length, bytes: record.size, ms: Date.now() - started });
        return record;
      } finally {
        this.release(held);
      }
    } catch (error) {
      if (error instanceof CaissonError) throw new CaissonError(error.code, `pull ${name}: ${error.message}`, { cause: error });
      throw new UnavailableError(`pull ${name}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** The manifest (or index) the reference names, from the first endpoint that answers. */
  private async resolve(reference: ImageReference, tokens: TokenFetcher): Promise<{ client: RegistryClient; top: FetchedManifest }> {
    const endpoints = registryEndpoints(reference.registry, this.deps.settings);
    let lastError: unknown;
    for (const endpoint of endpoints) {
      const client = new RegistryClient(endpoint, reference.repository, tokens);
      try {
        return { client, top: await client.manifest(reference.digest ?? reference.tag ?? 'latest') };
      } catch (error) {
        lastError = error;
        const tryNext = error instanceof EndpointUnreachableError || (endpoint.isMirror && !(error instanceof DataLossError));
        if (!tryNext) throw error;
        this.deps.logger.debug(`endpoint ${endpoint.base.href} failed; trying the next`, { error: (error as Error).message });
      }
    }
    throw lastError;
  }

  private async platformManifest(client: RegistryClient, top: FetchedManifest, name: string): Promise<FetchedManifest> {
    if (isManifest(top.mediaType)) return top;
    if (!isIndex(top.mediaType)) {
      throw new InvalidArgumentError(`manifest media type "${top.mediaType}" is not supported (Docker schema 2 and OCI only)`);
    }
    const index = parseRegistryJson<ImageIndex>(top.bytes, `the index of ${name}`);
    checkIndex(index, name);
    const chosen = pickPlatformManifest(index.manifests, this.deps.platform);
    if (!chosen) {
      const offered = index.manifests.map((m) => (m.platform ? formatPlatform(m.platform) : 'unknown')).join(', ');
      throw new NotFoundError(`no image for platform ${formatPlatform(this.deps.platform)} in the index of ${name} (it has: ${offered})`);
    }
    const manifest = await client.manifest(chosen.digest);
    if (!isManifest(manifest.mediaType)) {
      throw new InvalidArgumentError(`platform manifest ${chosen.digest} has unsupported media type "${manifest.mediaType}"`);
    }
    return manifest;
  }

  private layerRecords(manifest: ImageManifest, config: ImageConfig, name: string): LayerRecord[] {
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== manifest.layers.length) {
      throw new DataLossError(`config of ${name} lists ${diffIds.length} layer diff IDs but the manifest has ${manifest.layers.length} layers`);
    }
    const chain = chainIds(diffIds);
    return manifest.layers.map((layer, i) => {
      if (layerCompression(layer.mediaType) === undefined) {
        throw new InvalidArgumentError(`layer ${layer.digest} of ${name} has unsupported media type "${layer.mediaType}"`);
      }
      return { digest: layer.digest, mediaType: layer.mediaType, size: layer.size, diffId: diffIds[i] ?? '', chainId: chain[i] ?? '' };
    });
  }

  private async fetchLayers(client: RegistryClient, layers: readonly LayerRecord[], name: string, progress?: PullProgress): Promise<void> {
    const report = progressReporter(name, layers, progress);
    const queue = [...layers];
    let failed = false;
    const worker = async (): Promise<void> => {
      for (let layer = queue.shift(); layer && !failed; layer = queue.shift()) {
        const current = layer;
        await this.fetchBlob(client, current, `layer ${current.digest} of ${name}`, report.bytesOf(current.digest));
        await this.deps.snapshots.ensure(current.chainId, async (dir) => {
          await unpackLayer(this.deps.content.path(current.digest), layerCompression(current.mediaType) ?? 'none', current.diffId, dir);
        });
        report.layerDone(current);
      }
    };
    // Every worker finishes (or fails) before the pull answers, so a failed pull has nothing
    // still writing behind it when the image service clears what it left.
    const outcomes = await Promise.allSettled(
      Array.from({ length: Math.min(LAYER_CONCURRENCY, layers.length) }, () =>
        worker().catch((error: unknown) => {
          failed = true;
          throw error;
        }),
      ),
    );
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failure) throw failure.reason;
  }

  /** Downloads a blob into the content store unless present; concurrent requests share one download. */
  private fetchBlob(client: RegistryClient, descriptor: Pick<Descriptor, 'digest' | 'size'>, what: string, onBytes?: (bytes: number) => void): Promise<void> {
    if (this.deps.content.has(descriptor.digest)) return Promise.resolve();
    const running = this.blobs.get(descriptor.digest);
    if (running) return running;
    const work = (async () => {
      const { stream, size } = await client.blob(descriptor.digest);
      if (size !== undefined && size !== descriptor.size) {
        stream.destroy();
        throw new DataLossError(`${what}: the registry announces ${size} bytes, the manifest says ${descriptor.size}`);
      }
      await this.deps.content.ingest(descriptor.digest, descriptor.size, stream, what, onBytes);
    })().finally(() => this.blobs.delete(descriptor.digest));
    this.blobs.set(descriptor.digest, work);
    return work;
  }

  private hold(keys: readonly string[]): void {
    for (const key of keys) this.inUse.set(key, (this.inUse.get(key) ?? 0) + 1);
  }

  private release(keys: readonly string[]): void {
    for (const key of keys) {
      const count = (this.inUse.get(key) ?? 1) - 1;
      if (count <= 0) this.inUse.delete(key);
      else this.inUse.set(key, count);
    }
  }
}

/** Counts bytes per layer and finished layers, and reports at most every PROGRESS_INTERVAL_MS. */
function progressReporter(reference: string, layers: readonly LayerRecord[], progress?: PullProgress) {
  const totalBytes = layers.reduce((sum, l) => sum + l.size, 0);
  const downloaded = new Map<string, number>();
  let layersDone = 0;
  let lastReport = 0;
  const emit = (force: boolean): void => {
    if (!progress || (!force && Date.now() - lastReport < PROGRESS_INTERVAL_MS)) return;
    lastReport = Date.now();
    const doneBytes = Math.min(totalBytes, [...downloaded.values()].reduce((a, b) => a + b, 0));
    progress({ reference, doneBytes, totalBytes, layersDone, layers: layers.length });
  };
  return {
    bytesOf: (digest: string) => (count: number): void => {
      downloaded.set(digest, (downloaded.get(digest) ?? 0) + count);
      emit(false);
    },
    layerDone: (layer: LayerRecord): void => {
      downloaded.set(layer.digest, layer.size);
      layersDone += 1;
      emit(true);
    },
  };
}
