import type { ContentStore } from './content-store';
import type { ImageRecord } from './image-types';
import type { SnapshotStore } from './snapshot-store';

// Garbage collection of the image store: a blob or a snapshot stays only while a recorded image
// (or a pull in flight) uses it. Everything a pull makes before its record is written, and
// everything a RemoveImage leaves after deleting the record, is owned by no image, so this one
// rule is what cleans up after a failed pull, a removal, and (at start-up) a kill in either.

/** The part of the image records GC reads (ImageRecords; a plain object in unit tests). */
export interface RecordedImages {
  list(): ImageRecord[];
  refsOf(id: string): string[];
}

export interface CollectedGarbage {
  /** Digests of the blobs removed. */
  readonly blobs: string[];
  /** Chain IDs of the snapshots removed. */
  readonly snapshots: string[];
}

/** Digests and chain IDs that recorded images use: config, manifests (by digest refs too), layers, snapshots. */
export function referencedContent(images: RecordedImages): Set<string> {
  const keep = new Set<string>();
  for (const image of images.list()) {
    keep.add(image.id);
    keep.add(image.manifestDigest);
    for (const layer of image.layers) {
      keep.add(layer.digest);
      keep.add(layer.chainId);
    }
    // A tag's index (a multi-platform manifest list) is named only by the image's digest refs.
    for (const ref of images.refsOf(image.id)) {
      const at = ref.indexOf('@');
      if (at >= 0) keep.add(ref.slice(at + 1));
    }
  }
  return keep;
}

/** Deletes blobs and snapshots no recorded image uses and `inFlight` (a pull's holds) does not name. */
export function collectGarbage(content: ContentStore, snapshots: SnapshotStore, images: RecordedImages, inFlight: Iterable<string>): CollectedGarbage {
  const keep = referencedContent(images);
  for (const key of inFlight) keep.add(key);
  const blobs = content.list().filter((digest) => !keep.has(digest));
  for (const digest of blobs) content.delete(digest);
  const orphans = snapshots.list().filter((chainId) => !keep.has(chainId));
  for (const chainId of orphans) snapshots.remove(chainId);
  return { blobs, snapshots: orphans };
}
