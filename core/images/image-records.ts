import type { MetadataStore } from '../tokens';
import type { ImageRecord } from './image-types';

export type { ImageRecord, LayerRecord } from './image-types';

// Image metadata in the metadata store: one record per image (keyed by its ID, the config
// digest) and the references that name it (tags and digests). A record is written only after all
// of the image's content and snapshots exist, in one transaction with its references.

export class ImageRecords {
  constructor(private readonly store: MetadataStore) {}

  /** Saves an image and points `refs` at it (moving a tag away from an older image). */
  save(record: ImageRecord, refs: readonly string[]): void {
    this.store.transaction(() => {
      this.store.statement('INSERT INTO images (id, record) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET record = excluded.record').run(record.id, JSON.stringify(record));
      const upsert = this.store.statement('INSERT INTO image_refs (ref, image_id) VALUES (?, ?) ON CONFLICT(ref) DO UPDATE SET image_id = excluded.image_id');
      for (const ref of refs) upsert.run(ref, record.id);
    });
  }

  get(id: string): ImageRecord | undefined {
    const row = this.store.statement('SELECT record FROM images WHERE id = ?').get(id) as { record: string } | undefined;
    return row ? (JSON.parse(row.record) as ImageRecord) : undefined;
  }

  /** IDs that start with `prefix` (hex, without "sha256:"). */
  idsWithPrefix(prefix: string): string[] {
    const rows = this.store.statement('SELECT id FROM images WHERE id LIKE ?').all(`sha256:${prefix}%`) as { id: string }[];
    return rows.map((r) => r.id);
  }

  imageOfRef(ref: string): string | undefined {
    const row = this.store.statement('SELECT image_id FROM image_refs WHERE ref = ?').get(ref) as { image_id: string } | undefined;
    return row?.image_id;
  }

  refsOf(id: string): string[] {
    const rows = this.store.statement('SELECT ref FROM image_refs WHERE image_id = ? ORDER BY ref').all(id) as { ref: string }[];
    return rows.map((r) => r.ref);
  }

  list(): ImageRecord[] {
    const rows = this.store.statement('SELECT record FROM images ORDER BY id').all() as { record: string }[];
    return rows.map((r) => JSON.parse(r.record) as ImageRecord);
  }

  deleteRef(ref: string): void {
    this.store.statement('DELETE FROM image_refs WHERE ref = ?').run(ref);
  }

  /** Deletes an image and every reference to it. */
  delete(id: string): void {
    this.store.transaction(() => {
      this.store.statement('DELETE FROM image_refs WHERE image_id = ?').run(id);
      this.store.statement('DELETE FROM images WHERE id = ?').run(id);
    });
  }
}
