import { DataLossError } from '../errors';
import { checkDigest } from './digest';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest } from './media-types';

// What a manifest, an index and an image config from a registry must hold before any of it is
// used: descriptors with a well-formed digest and a size, and sha256 diff IDs. A registry is not
// trusted: its digests name files in the stores, and its sizes bound the downloads.

/** A registry document (manifest, index, config) as JSON; anything else is DATA_LOSS naming it. */
export function parseRegistryJson<T>(bytes: Buffer | string, what: string): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString());
  } catch (error) {
    throw new DataLossError(`${what} is not JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new DataLossError(`${what} is not a JSON object`);
  return parsed as T;
}

function checkDescriptor(descriptor: unknown, what: string, allowed: Parameters<typeof checkDigest>[2] = ['sha256']): void {
  const candidate = descriptor as Partial<Descriptor> | null;
  if (candidate === null || typeof candidate !== 'object') throw new DataLossError(`${what} is not a descriptor`);
  checkDigest(candidate.digest, what, allowed);
  if (!Number.isSafeInteger(candidate.size) || (candidate.size ?? -1) < 0) {
    throw new DataLossError(`${what} has size ${JSON.stringify(candidate.size)}, which is not a byte count`);
  }
}

export function checkManifest(manifest: ImageManifest, name: string): void {
  checkDescriptor(manifest.config, `the config descriptor in the manifest of ${name}`);
  if (!Array.isArray(manifest.layers)) throw new DataLossError(`the manifest of ${name} has no layer list`);
  manifest.layers.forEach((layer, i) => checkDescriptor(layer, `layer ${i} in the manifest of ${name}`));
}

export function checkIndex(index: ImageIndex, name: string): void {
  if (!Array.isArray(index.manifests)) throw new DataLossError(`the index of ${name} has no manifest list`);
  index.manifests.forEach((entry, i) => checkDescriptor(entry, `manifest ${i} in the index of ${name}`, ['sha256', 'sha512']));
}

export function checkConfig(config: ImageConfig, name: string): void {
  const diffIds: unknown = config.rootfs?.diff_ids ?? [];
  if (!Array.isArray(diffIds)) throw new DataLossError(`the config of ${name} has no diff ID list`);
  diffIds.forEach((diffId, i) => checkDigest(diffId, `diff ID ${i} in the config of ${name}`));
}
