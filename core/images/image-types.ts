import type { FsUsage } from './fs-usage';
import type { ImageConfig } from './media-types';

// The image store's data shapes, apart from the code that makes them, so the contracts in
// core/tokens.ts can name them without importing an implementation.

export interface LayerRecord {
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  readonly diffId: string;
  readonly chainId: string;
}

export interface ImageRecord {
  /** The image ID: the digest of its config. */
  readonly id: string;
  readonly manifestDigest: string;
  readonly manifestMediaType: string;
  readonly config: ImageConfig;
  readonly configSize: number;
  readonly layers: readonly LayerRecord[];
  /** Bytes of the image's content in the registry: manifest, config and compressed layers. */
  readonly size: number;
  readonly pulledAt: string;
  readonly pinned: boolean;
}

export interface PullProgressEvent {
  readonly reference: string;
  /** Compressed layer bytes downloaded (or found present) so far, out of the image's total. */
  readonly doneBytes: number;
  readonly totalBytes: number;
  /** Layers downloaded and unpacked. */
  readonly layersDone: number;
  readonly layers: number;
}

export type PullProgress = (event: PullProgressEvent) => void;

/** What the image filesystem uses, and where it is. */
export interface ImageFsUsage extends FsUsage {
  readonly mountpoint: string;
  /** Milliseconds since the epoch when the usage was measured. */
  readonly timestamp: number;
}
