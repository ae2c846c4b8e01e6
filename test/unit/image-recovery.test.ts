import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLogger } from '../../core/log/logger';
import { ContentStore } from '../../core/images/content-store';
import { sha256Digest } from '../../core/images/digest';
import { collectGarbage, type RecordedImages } from '../../core/images/image-gc';
import { recoverImageStore } from '../../core/images/image-recovery';
import type { ImageRecord } from '../../core/images/image-types';
import { SnapshotStore } from '../../core/images/snapshot-store';

// Image store recovery on a synthetic store: what a kill in PullImage or RemoveImage can leave
// (a partial download, a half-unpacked snapshot, a snapshot renamed away for deletion, blobs and
// snapshots whose image was never recorded or whose record is gone) is removed with one
// recovery line each; what a recorded image uses stays.

const blob = (text: string): { digest: string; bytes: Buffer } => ({ digest: sha256Digest(Buffer.from(text)), bytes: Buffer.from(text) });
const chain = (n: number): string => `sha256:${String(n).repeat(64).slice(0, 64)}`;

function imageRecord(config: string, manifest: string, layer: string, chainId: string): ImageRecord {
  return {
    id: config,
    manifestDigest: manifest,
    manifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { rootfs: { type: 'layers', diff_ids: [] } } as unknown as ImageRecord['config'],
    configSize: 1,
    layers: [{ digest: layer, mediaType: 'application/vnd.oci.image.layer.v1.tar', size: 1, diffId: chainId, chainId }],
    size: 3,
    pulledAt: new Date(0).toISOString(),
    pinned: false,
  };
}

describe('image store recovery', () => {
  let root = '';
  let lines: string[] = [];
  const logger = createLogger('info', (line) => lines.push(line));
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'caisson-image-gc-'));
    lines = [];
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const stores = (): { content: ContentStore; snapshots: SnapshotStore } => ({
    content: new ContentStore(path.join(root, 'content')),
    snapshots: new SnapshotStore(path.join(root, 'snapshots')),
  });
  const makeSnapshot = (chainId: string): void => {
    fs.mkdirSync(path.join(root, 'snapshots', chainId.slice('sha256:'.length), 'fs'), { recursive: true });
  };

  it('removes partial downloads, half-made snapshots and orphans, keeps what a record uses, and logs one line each', () => {
    const { content, snapshots } = stores();
    const [config, manifest, layer, index, orphanLayer, orphanConfig] = ['config', 'manifest', 'layer', 'index', 'orphan layer', 'orphan config'].map(blob);
    for (const b of [config, manifest, layer, index, orphanLayer, orphanConfig]) content.writeBytes(b!.digest, b!.bytes, 'test blob');
    makeSnapshot(chain(1));
    makeSnapshot(chain(2));
    fs.writeFileSync(path.join(root, 'content', 'ingest', 'abc123'), 'half a layer');
    fs.mkdirSync(path.join(root, 'snapshots', 'tmp-0011223344556677', 'fs', 'bin'), { recursive: true });
    fs.mkdirSync(path.join(root, 'snapshots', 'tmp-removing-a1b2c3', 'fs'), { recursive: true });
    const record = imageRecord(config!.digest, manifest!.digest, layer!.digest, chain(1));
    const images: RecordedImages = { list: () => [record], refsOf: () => ['registry.test/busybox:latest', `registry.test/busybox@${index!.digest}`] };

    const report = recoverImageStore(content, snapshots, images, logger);

    assert.deepEqual(report, { partialDownloads: 1, partialSnapshots: 2, blobs: 2, snapshots: 1 });
    assert.deepEqual(content.list().sort(), [config, manifest, layer, index].map((b) => b!.digest).sort());
    assert.deepEqual(snapshots.list(), [chain(1)]);
    assert.deepEqual(fs.readdirSync(path.join(root, 'content', 'ingest')), []);
    assert.deepEqual(fs.readdirSync(path.join(root, 'snapshots')), [chain(1).slice('sha256:'.length)]);
    const recovery = lines.map((line) => line.replace(/^\S+ warn  caissond: /, '').trimEnd()).sort();
    const orphan = 'no image record references it (a pull or RemoveImage was cut short)';
    assert.deepEqual(
      recovery,
      [
        `recovery: image blob ${orphanConfig!.digest} removed: ${orphan}`,
        `recovery: image blob ${orphanLayer!.digest} removed: ${orphan}`,
        'recovery: image content ingest/abc123 removed: a partial download (a pull was cut short before the blob was verified and stored)',
        `recovery: image snapshot ${chain(2)} removed: ${orphan}`,
        'recovery: image snapshot tmp-0011223344556677 removed: a half-unpacked layer (a pull was cut short before the snapshot was renamed into place)',
        'recovery: image snapshot tmp-removing-a1b2c3 removed: a snapshot renamed away for deletion (a removal was cut short)',
      ].sort(),
    );
  });

  it('logs nothing and removes nothing when the store is clean', () => {
    const { content, snapshots } = stores();
    const [config, manifest, layer] = ['config', 'manifest', 'layer'].map(blob);
    for (const b of [config, manifest, layer]) content.writeBytes(b!.digest, b!.bytes, 'test blob');
    makeSnapshot(chain(1));
    const record = imageRecord(config!.digest, manifest!.digest, layer!.digest, chain(1));
    const report = recoverImageStore(content, snapshots, { list: () => [record], refsOf: () => [] }, logger);
    assert.deepEqual(report, { partialDownloads: 0, partialSnapshots: 0, blobs: 0, snapshots: 0 });
    assert.equal(content.list().length, 3);
    assert.deepEqual(lines, []);
  });

  it('leaves alone what a pull in flight holds, though no record references it yet', () => {
    const { content, snapshots } = stores();
    const [held, loose] = ['held', 'loose'].map(blob);
    content.writeBytes(held!.digest, held!.bytes, 'test blob');
    content.writeBytes(loose!.digest, loose!.bytes, 'test blob');
    makeSnapshot(chain(3));
    makeSnapshot(chain(4));
    const collected = collectGarbage(content, snapshots, { list: () => [], refsOf: () => [] }, [held!.digest, chain(3)]);
    assert.deepEqual(collected, { blobs: [loose!.digest], snapshots: [chain(4)] });
    assert.deepEqual(content.list(), [held!.digest]);
    assert.deepEqual(snapshots.list(), [chain(3)]);
  });
});
