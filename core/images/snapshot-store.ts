import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { runProgram } from '../host-programs/run-program';
import { digestHex } from './digest';
import { fsyncPath } from '../store/fsync-path';
import { killPoint } from '../crash/kill-point';

// One overlayfs-ready directory per layer, keyed by the layer's chain ID, under
// <graph>/images/snapshots/<chain-id-hex>/fs. Images that share a base share its snapshots. A
// snapshot is unpacked into a temporary directory, synced to disk (syncfs on its filesystem:
// tar writes through the page cache), and renamed into place, and the rename itself is synced,
// so neither a crash nor a power cut leaves a half layer under a chain ID: only a temporary
// directory, removed at the next start.

const TEMPORARY_PREFIX = 'tmp-';

export class SnapshotStore {
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(private readonly root: string) {
    fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  }

  /** The directory overlayfs uses as this layer's lowerdir. */
  fsDir(chainId: string): string {
    return path.join(this.root, digestHex(chainId), 'fs');
  }

  has(chainId: string): boolean {
    return fs.existsSync(this.fsDir(chainId));
  }

  /** Makes the snapshot with `unpack(dir)` unless it exists; concurrent callers share one unpack. */
  ensure(chainId: string, unpack: (dir: string) => Promise<void>): Promise<void> {
    if (this.has(chainId)) return Promise.resolve();
    const running = this.inFlight.get(chainId);
    if (running) return running;
    const work = this.create(chainId, unpack).finally(() => this.inFlight.delete(chainId));
    this.inFlight.set(chainId, work);
    return work;
  }

  remove(chainId: string): void {
    const dir = path.join(this.root, digestHex(chainId));
    const doomed = path.join(this.root, `${TEMPORARY_PREFIX}removing-${randomBytes(6).toString('hex')}`);
    if (!fs.existsSync(dir)) return;
    fs.renameSync(dir, doomed);
    fs.rmSync(doomed, { recursive: true, force: true });
  }

  /** Chain IDs of every complete snapshot. */
  list(): string[] {
    return fs
      .readdirSync(this.root)
      .filter((name) => !name.startsWith(TEMPORARY_PREFIX))
      .map((hex) => `sha256:${hex}`);
  }

  /**
   * Removes what a crash left half done (unpacks not yet renamed into place, snapshots renamed
   * away for deletion but not yet deleted) and answers their names; called at start-up.
   */
  removeIncomplete(): string[] {
    const names = fs.readdirSync(this.root).filter((name) => name.startsWith(TEMPORARY_PREFIX));
    for (const name of names) fs.rmSync(path.join(this.root, name), { recursive: true, force: true });
    return names;
  }

  private async create(chainId: string, unpack: (dir: string) => Promise<void>): Promise<void> {
    const temporary = path.join(this.root, `${TEMPORARY_PREFIX}${randomBytes(8).toString('hex')}`);
    try {
      fs.mkdirSync(temporary, { mode: 0o700 });
      await unpack(path.join(temporary, 'fs'));
      await runProgram('sync', ['--file-system', temporary]);
      fs.renameSync(temporary, path.join(this.root, digestHex(chainId)));
      await fsyncPath(this.root);
      killPoint('image-layer-unpacked');
    } finally {
      fs.rmSync(temporary, { recursive: true, force: true });
    }
  }
}
