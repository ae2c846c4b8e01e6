import { logRecovery } from '../crash/recovery-log';
import type { Logger } from '../tokens';
import type { ContentStore } from './content-store';
import { collectGarbage, type RecordedImages } from './image-gc';
import type { SnapshotStore } from './snapshot-store';

// Image store recovery at start-up. A pull writes blobs and snapshots under temporary names,
// renames each into place once whole, and records the image last, in one transaction; a
// RemoveImage deletes the record first, then the content. So after a kill, whatever is under a
// temporary name is a partial step, and whatever no record references belongs to a pull that
// never answered or to a removal that already answered for the record: both are removed. No pull
// is in flight at start-up, so nothing else holds content.
//
// One recovery line per object removed, blobs and snapshots included: orphans come only from
// the one pull or removal a kill cut short (a failed pull collects its own at once), so they are
// at most one image's layers, manifests and config, and each line names what an operator may
// look for.

export interface ImageRecoveryReport {
  readonly partialDownloads: number;
  readonly partialSnapshots: number;
  readonly blobs: number;
  readonly snapshots: number;
}

export function recoverImageStore(content: ContentStore, snapshots: SnapshotStore, images: RecordedImages, logger: Logger): ImageRecoveryReport {
  const downloads = content.removeIncomplete();
  for (const name of downloads) {
    logRecovery(logger, `image content ingest/${name}`, 'removed', 'a partial download (a pull was cut short before the blob was verified and stored)');
  }
  const unpacks = snapshots.removeIncomplete();
  for (const name of unpacks) {
    const found = name.includes('removing-') ? 'a snapshot renamed away for deletion (a removal was cut short)' : 'a half-unpacked layer (a pull was cut short before the snapshot was renamed into place)';
    logRecovery(logger, `image snapshot ${name}`, 'removed', found);
  }
  const collected = collectGarbage(content, snapshots, images, []);
  for (const digest of collected.blobs) {
    logRecovery(logger, `image blob ${digest}`, 'removed', 'no image record references it (a pull or RemoveImage was cut short)');
  }
  for (const chainId of collected.snapshots) {
    logRecovery(logger, `image snapshot ${chainId}`, 'removed', 'no image record references it (a pull or RemoveImage was cut short)');
  }
  return { partialDownloads: downloads.length, partialSnapshots: unpacks.length, blobs: collected.blobs.length, snapshots: collected.snapshots.length };
}
