import * as path from 'node:path';
import { inject, injectable } from 'tsyringe';
import { killPoint } from '../crash/kill-point';
import { FailedPreconditionError, UnavailableError } from '../errors';
import { DaemonConfig, Logger, MetadataStore, ObjectLocks, type ImageService as ImageServiceContract } from '../tokens';
import { ContentStore } from './content-store';
import { directoryUsage } from './fs-usage';
import { collectGarbage } from './image-gc';
import { parseImageReference, taggedName, formatReference, isDigest, type ImageReference } from './image-reference';
import { ImagePuller, type PullProgress } from './image-puller';
import { ImageRecords, type ImageRecord } from './image-records';
import { recoverImageStore } from './image-recovery';
import { hostPlatform } from './platform';
import type { RegistryCredentials } from './registry/registry-credentials';
import { SnapshotStore } from './snapshot-store';

// The image service: pull, look up, list and remove images, and report the image filesystem.
// Content and snapshots live under <graph>/images; metadata in the daemon's metadata store.
// Removing an image also removes the blobs and snapshots no other image uses. RemoveImage holds
// `image:<id>` exclusively (CreateContainer holds it shared), so an image cannot go while a
// container is being created from it.

import type { ImageFsUsage } from './image-types';

export type { ImageFsUsage };

const USAGE_CACHE_MS = 10_000;
/** How often RemoveImage looks the name up again when a pull moved it to another image meanwhile. */
const REMOVE_ATTEMPTS = 5;

@injectable()
export class ImageService implements ImageServiceContract {
  readonly root: string;
  private readonly content: ContentStore;
  private readonly snapshots: SnapshotStore;
  private readonly records: ImageRecords;
  private readonly puller: ImagePuller;
  private usage: { value: ImageFsUsage; at: number } | undefined;

  constructor(
    @inject(DaemonConfig) config: DaemonConfig,
    @inject(MetadataStore) private readonly store: MetadataStore,
    @inject(Logger) private readonly logger: Logger,
    @inject(ObjectLocks) private readonly locks: ObjectLocks,
  ) {
    this.root = path.join(config.graph, 'images');
    this.content = new ContentStore(path.join(this.root, 'content'));
    this.snapshots = new SnapshotStore(path.join(this.root, 'snapshots'));
    this.records = new ImageRecords(store);
    const sandboxImage = config.podSandboxImage ? taggedName(parseImageReference(config.podSandboxImage)) : undefined;
    this.puller = new ImagePuller({
      content: this.content,
      snapshots: this.snapshots,
      records: this.records,
      settings: config,
      platform: hostPlatform(),
      logger,
      isPinned: (refs) => sandboxImage !== undefined && refs.includes(sandboxImage),
    });
  }

  /** Removes what a crash left: partial downloads and unpacks, and content no image records. */
  recover(): void {
    recoverImageStore(this.content, this.snapshots, this.records, this.logger);
  }

  async pull(reference: string, credentials: RegistryCredentials, progress?: PullProgress): Promise<ImageRecord> {
    try {
      return await this.puller.pull(parseImageReference(reference), credentials, progress);
    } catch (error) {
      // Layers a failed pull stored that no image uses are removed now, not at the next start.
      this.collectGarbage();
      throw error;
    } finally {
      this.usage = undefined;
    }
  }

  /** Finds an image by ID (full or a unique hex prefix), tag or digest reference. */
  find(text: string): ImageRecord | undefined {
    const id = this.resolveId(text);
    return id === undefined ? undefined : this.records.get(id);
  }

  list(): ImageRecord[] {
    return this.records.list();
  }

  /** "docker.io/library/busybox:latest" style tags and "name@sha256:…" digests of an image. */
  references(id: string): { repoTags: string[]; repoDigests: string[] } {
    const refs = this.records.refsOf(id);
    return { repoTags: refs.filter((r) => !r.includes('@')), repoDigests: refs.filter((r) => r.includes('@')) };
  }

  /** overlayfs lowerdirs of an image, top layer first. */
  lowerDirs(image: ImageRecord): string[] {
    return image.layers.map((layer) => this.snapshots.fsDir(layer.chainId)).reverse();
  }

  /**
   * Removes a reference, or the whole image when given its ID or when no tag would remain. An
   * image a container uses cannot be removed. Removing what does not exist is not an error.
   */
  async remove(text: string): Promise<void> {
    for (let attempt = 0; attempt < REMOVE_ATTEMPTS; attempt++) {
      const id = this.resolveId(text);
      if (id === undefined) return;
      // Under the lock the name is looked up again: a pull may have moved the tag to another
      // image while this waited, and that image's lock is not the one held.
      const removed = await this.locks.exclusive(`image:${id}`, async () => {
        if (this.resolveId(text) !== id) return false;
        this.removeLocked(text, id);
        return true;
      });
      if (removed) return;
    }
    throw new UnavailableError(`remove image ${text}: the name moved to another image ${REMOVE_ATTEMPTS} times while waiting for it; retry`);
  }

  /** The removal itself, holding `image:<id>`: untag, or delete the record, then its content. */
  private removeLocked(text: string, id: string): void {
    const ref = this.referenceText(text);
    if (ref !== undefined) {
      const remainingTags = this.records.refsOf(id).filter((r) => r !== ref && !r.includes('@'));
      if (remainingTags.length > 0) {
        this.records.deleteRef(ref);
        this.logger.info(`untagged ${ref}`, { id });
        return;
      }
    }
    // Checked under the lock: a CreateContainer that held it shared has recorded its container.
    const users = this.store.containersUsingImage(id);
    if (users.length > 0) {
      throw new FailedPreconditionError(`image ${id} (${text}) is used by container(s) ${users.join(', ')}; remove them first`);
    }
    // The record goes first (one transaction with its refs): from then on the content belongs
    // to no image, and a kill before the collection below leaves it to recovery's GC.
    this.records.delete(id);
    killPoint('image-record-removed');
    this.collectGarbage();
    killPoint('image-content-removed');
    this.usage = undefined;
    this.logger.info(`removed image ${id}`, { requested: text });
  }

  /** Bytes and inodes under the image root (cached briefly: kubelet asks often). */
  async fsUsage(): Promise<ImageFsUsage> {
    if (this.usage && Date.now() - this.usage.at < USAGE_CACHE_MS) return this.usage.value;
    const usage = await directoryUsage(this.root);
    const value = { ...usage, mountpoint: this.root, timestamp: Date.now() };
    this.usage = { value, at: Date.now() };
    return value;
  }

  private resolveId(text: string): string | undefined {
    const trimmed = text.trim();
    if (isDigest(trimmed)) return this.records.get(trimmed) ? trimmed : this.records.imageOfRef(trimmed);
    if (/^[a-f0-9]{12,64}$/.test(trimmed)) {
      const matches = this.records.idsWithPrefix(trimmed);
      if (matches.length === 1) return matches[0];
    }
    const ref = this.referenceText(trimmed);
    return ref === undefined ? undefined : this.records.imageOfRef(ref);
  }

  /** The normalised reference a text names, or undefined when it is an ID or not a reference. */
  private referenceText(text: string): string | undefined {
    if (isDigest(text.trim())) return undefined;
    let reference: ImageReference;
    try {
      reference = parseImageReference(text);
    } catch {
      return undefined;
    }
    return formatReference(reference.digest !== undefined ? { ...reference, tag: undefined } as ImageReference : reference);
  }

  /** Deletes blobs and snapshots that no recorded image and no pull in flight uses. */
  private collectGarbage(): void {
    collectGarbage(this.content, this.snapshots, this.records, this.puller.inUse.keys());
  }
}
