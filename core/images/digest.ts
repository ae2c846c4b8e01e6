import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { DataLossError } from '../errors';

// Digests ("<algorithm>:<hex>") of buffers and of streams as they pass through, and the check
// every digest from a registry passes before it is used. Digests become file names in the
// content and snapshot stores, so one that is not exactly `sha256:` and 64 lowercase hex digits
// (a registry may send `sha256:../../etc`) never reaches a path. Blobs, diff IDs and chain IDs
// are sha256 only (the stores are keyed by it); a manifest may be named by sha512 too, as the
// OCI spec registers both, and is then verified with sha512.

/** The digest algorithms the OCI image spec registers, with their hex lengths. */
const ALGORITHMS = { sha256: 64, sha512: 128 } as const;
export type DigestAlgorithm = keyof typeof ALGORITHMS;

const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

export function sha256Digest(data: Buffer | string): string {
  return digestWith('sha256', data);
}

export function digestWith(algorithm: DigestAlgorithm, data: Buffer | string): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/** The hex part of a sha256 digest; anything else is refused (it would become a path). */
export function digestHex(digest: string): string {
  if (!SHA256_DIGEST.test(digest)) throw new DataLossError(`"${digest}" is not a sha256 digest (sha256:<64 lowercase hex digits>)`);
  return digest.slice('sha256:'.length);
}

/**
 * The algorithm of `digest` when it is well formed and one of `allowed`; otherwise DATA_LOSS
 * naming `what` (the registry's content is not what an image may hold).
 */
export function checkDigest(digest: unknown, what: string, allowed: readonly DigestAlgorithm[] = ['sha256']): DigestAlgorithm {
  const text = typeof digest === 'string' ? digest : '';
  const colon = text.indexOf(':');
  const algorithm = text.slice(0, colon) as DigestAlgorithm;
  const length = allowed.includes(algorithm) ? ALGORITHMS[algorithm] : undefined;
  if (colon < 0 || length === undefined || !new RegExp(`^[a-f0-9]{${length}}$`).test(text.slice(colon + 1))) {
    const expected = allowed.map((name) => `${name}:<${ALGORITHMS[name]} lowercase hex digits>`).join(' or ');
    throw new DataLossError(`${what} has digest ${JSON.stringify(digest)}, which is not ${expected}`);
  }
  return algorithm;
}

/** A pass-through stream that hashes and counts what flows through it. */
export class DigestingStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

/** OCI chain IDs: the first layer's is its diff ID; each next one hashes "<parent> <diffID>". */
export function chainIds(diffIds: readonly string[]): string[] {
  const chain: string[] = [];
  for (const diffId of diffIds) {
    const parent = chain[chain.length - 1];
    chain.push(parent === undefined ? diffId : sha256Digest(`${parent} ${diffId}`));
  }
  return chain;
}
