import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ImageRecords } from '../../core/images/image-records';
import { ImageService } from '../../core/images/image-service';
import type { ImageRecord } from '../../core/images/image-types';
import { KeyedLock } from '../../core/locks/keyed-lock';
import { createLogger } from '../../core/log/logger';
import { MetadataStore } from '../../core/store/metadata-store';
import type { DaemonConfig } from '../../core/tokens';

// RemoveImage holds image:<id> exclusively and checks for users under it: while a
// CreateContainer holds the lock shared, the removal waits; if that CreateContainer recorded a
// container from the image, the removal is refused (FAILED_PRECONDITION naming it); if not, it
// goes through once the lock is released.

const IMAGE_ID = `sha256:${'c'.repeat(64)}`;

function record(): ImageRecord {
  return {
    id: IMAGE_ID,
    manifestDigest: `sha256:${'d'.repeat(64)}`,
    manifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { rootfs: { type: 'layers', diff_ids: [] } } as unknown as ImageRecord['config'],
    configSize: 1,
    layers: [],
    size: 1,
    pulledAt: new Date(0).toISOString(),
    pinned: false,
  };
}

describe('RemoveImage under the image lock', () => {
  let root = '';
  let store: MetadataStore;
  let locks: KeyedLock;
  let images: ImageService;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'caisson-image-lock-'));
    store = MetadataStore.open(path.join(root, 'graph'));
    locks = new KeyedLock();
    images = new ImageService({ graph: path.join(root, 'graph') } as DaemonConfig, store, createLogger('error', () => undefined), locks);
    new ImageRecords(store).save(record(), ['registry.test/busybox:latest']);
  });
  afterEach(() => {
    store.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  /** Holds image:<id> shared (as CreateContainer does) until the returned function is called. */
  const holdShared = (): { release: () => void; held: Promise<void> } => {
    let release = (): void => undefined;
    const held = locks.shared(`image:${IMAGE_ID}`, () => new Promise<void>((resolve) => (release = resolve)));
    return { release: () => release(), held };
  };

  const settled = async (promise: Promise<unknown>): Promise<boolean> => {
    let done = false;
    void promise.then(() => (done = true), () => (done = true));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    return done;
  };

  it('waits for a CreateContainer holding the image, then refuses when it recorded a container from it', async () => {
    const creating = holdShared();
    const removal = images.remove('registry.test/busybox:latest');
    assert.equal(await settled(removal), false, 'the removal waits for the lock');
    store.putSandbox('pod1', { id: 'pod1' });
    store.putContainer('ctr1', 'pod1', { id: 'ctr1', imageId: IMAGE_ID });
    creating.release();
    await creating.held;
    await assert.rejects(removal, {
      code: 'FAILED_PRECONDITION',
      message: `image ${IMAGE_ID} (registry.test/busybox:latest) is used by container(s) ctr1; remove them first`,
    });
    assert.equal(images.find(IMAGE_ID)?.id, IMAGE_ID);
  });

  it('waits for a CreateContainer holding the image, then removes it when none was recorded', async () => {
    const creating = holdShared();
    const removal = images.remove(IMAGE_ID);
    assert.equal(await settled(removal), false, 'the removal waits for the lock');
    assert.equal(images.find(IMAGE_ID)?.id, IMAGE_ID);
    creating.release();
    await removal;
    assert.equal(images.find(IMAGE_ID), undefined);
    assert.equal(locks.size, 0);
  });
});
