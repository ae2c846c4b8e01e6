import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { DataLossError } from '../errors';
import { DigestingStream, digestHex, sha256Digest } from './digest';
import { fsyncPath } from '../store/fsync-path';
import { killPoint } from '../crash/kill-point';

// Content-addressed blobs (manifests, configs, layers) under <graph>/images/content. A blob is
// written to ingest/ first and renamed into blobs/ only after its digest and size check out, so a
// crash or a tampered download never leaves a wrong blob under a digest's name.

export class ContentStore {
  private readonly blobsDir: string;
  private readonly ingestDir: string;

  constructor(root: string) {
    this.blobsDir = path.join(root, 'blobs', 'sha256');
    this.ingestDir = path.join(root, 'ingest');
    fs.mkdirSync(this.blobsDir, { recursive: true, mode: 0o700 });
    fs.mkdirSync(this.ingestDir, { recursive: true, mode: 0o700 });
  }

  path(digest: string): string {
    return path.join(this.blobsDir, digestHex(digest));
  }

  has(digest: string): boolean {
    return fs.existsSync(this.path(digest));
  }

  /** Streams `source` into the store, verifying digest (and size when known). */
  async ingest(digest: string, expectedSize: number | undefined, source: Readable, what: string, onBytes?: (bytes: number) => void): Promise<void> {
    const temporary = this.temporaryPath();
    const digester = new DigestingStream();
    if (onBytes) digester.on('data', (chunk: Buffer) => onBytes(chunk.length));
    try {
      await pipeline(source, digester, fs.createWriteStream(temporary, { mode: 0o600 }));
      const actual = digester.digest();
      if (actual !== digest) {
        throw new DataLossError(`${what}: content does not match its digest ${digest} (received ${actual}); nothing was stored`);
      }
      if (expectedSize !== undefined && digester.bytes !== expectedSize) {
        throw new DataLossError(`${what}: expected ${expectedSize} bytes, received ${digester.bytes}; nothing was stored`);
      }
      await fsyncPath(temporary);
      fs.renameSync(temporary, this.path(digest));
      await fsyncPath(this.blobsDir);
      killPoint('image-blob-written');
    } finally {
      fs.rmSync(temporary, { force: true });
    }
  }

  /** Stores bytes whose digest the caller computed or checked. */
  writeBytes(digest: string, bytes: Buffer, what: string): void {
    const actual = sha256Digest(bytes);
    if (actual !== digest) throw new DataLossError(`${what}: content does not match its digest ${digest} (received ${actual})`);
    if (this.has(digest)) return;
    const temporary = this.temporaryPath();
    fs.writeFileSync(temporary, bytes, { mode: 0o600, flush: true });
    fs.renameSync(temporary, this.path(digest));
  }

  read(digest: string): Buffer {
    return fs.readFileSync(this.path(digest));
  }

  size(digest: string): number {
    return fs.statSync(this.path(digest)).size;
  }

  delete(digest: string): void {
    fs.rmSync(this.path(digest), { force: true });
  }

  /** Every stored digest. */
  list(): string[] {
    return fs.readdirSync(this.blobsDir).map((hex) => `sha256:${hex}`);
  }

  /** Drops partial downloads left by a crash and answers their names; called at start-up. */
  removeIncomplete(): string[] {
    const names = fs.readdirSync(this.ingestDir);
    for (const name of names) fs.rmSync(path.join(this.ingestDir, name), { recursive: true, force: true });
    return names;
  }

  private temporaryPath(): string {
    return path.join(this.ingestDir, randomBytes(8).toString('hex'));
  }
}
