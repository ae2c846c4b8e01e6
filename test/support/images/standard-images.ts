import * as crypto from 'node:crypto';
import { busyboxBaseLayer, pushImage, pushIndex, type ImageConfigSpec, type LayerEntry, type PushedImage, type RegistryTarget } from './image-builder';

// The images the image-service tests pull, pushed in one call. Each covers one thing a puller
// must get right: tags, OCI media types, uncompressed layers, whiteouts, numeric and named
// users, a multi-arch index, and (for benchmarks) a large, many-layer image.

export interface MultiArchImages {
  /** "multi:latest": a Docker manifest list of the two images below. */
  readonly indexDigest: string;
  readonly indexMediaType: string;
  /** Each has a file /platform holding "amd64" or "arm64", pushed by digest only. */
  readonly amd64: PushedImage;
  readonly arm64: PushedImage;
}

export interface StandardImages {
  /** "busybox", tags "latest" and "1.36". */
  readonly busybox: PushedImage;
  /** "busybox-oci:latest", OCI media types. */
  readonly oci: PushedImage;
  /** "plain:latest", uncompressed layers. */
  readonly uncompressed: PushedImage;
  /** "whiteout:latest"; see WHITEOUT_LAYERS. */
  readonly whiteout: PushedImage;
  /** "user-numeric:latest", User "1234". */
  readonly userNumeric: PushedImage;
  /** "user-named:latest", User "daemon". */
  readonly userNamed: PushedImage;
  readonly multiArch: MultiArchImages;
  /** "multi-layer:latest": 4 layers, one of them a 20 MiB file of incompressible bytes. */
  readonly multiLayer: PushedImage;
}

export const STANDARD_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export const BUSYBOX_CONFIG: ImageConfigSpec = {
  Env: [`PATH=${STANDARD_PATH}`],
  Cmd: ['sh'],
  Labels: { 'org.opencontainers.image.title': 'caisson-test-busybox' },
};

/**
 * Above the busybox base (layer 0): layer 1 adds /data/{gone,kept}.txt and /cache/old{1,2};
 * layer 2 whites out /data/gone.txt, makes /cache opaque with a new /cache/new, and adds
 * /data/added.txt. Unpacked, the image has /data/{kept,added}.txt and /cache/new only.
 */
export const WHITEOUT_LAYERS: LayerEntry[][] = [
  [
    { type: 'file', path: '/data/gone.txt', content: 'gone\n' },
    { type: 'file', path: '/data/kept.txt', content: 'kept\n' },
    { type: 'file', path: '/cache/old1', content: 'old1\n' },
    { type: 'file', path: '/cache/old2', content: 'old2\n' },
  ],
  [
    { type: 'whiteout', path: '/data/gone.txt' },
    { type: 'opaque', path: '/cache' },
    { type: 'file', path: '/cache/new', content: 'new\n' },
    { type: 'file', path: '/data/added.txt', content: 'added\n' },
  ],
];

export const MULTI_LAYER_RANDOM_BYTES = 20 * 1024 * 1024;

export async function pushStandardImages(registry: RegistryTarget): Promise<StandardImages> {
  const base = busyboxBaseLayer();
  const withBase = (config: ImageConfigSpec = BUSYBOX_CONFIG) => ({ tags: ['latest'], layers: [base], config });

  // Different repositories, so the pushes are independent; the shared base layer is stored once.
  const [busybox, oci, uncompressed, whiteout, userNumeric, userNamed, multiArch, multiLayer] = await Promise.all([
    pushImage(registry, { ...withBase(), repository: 'busybox', tags: ['latest', '1.36'] }),
    pushImage(registry, { ...withBase(), repository: 'busybox-oci', format: 'oci' }),
    pushImage(registry, { ...withBase(), repository: 'plain', compression: 'none' }),
    pushImage(registry, { ...withBase(), repository: 'whiteout', layers: [base, ...WHITEOUT_LAYERS] }),
    pushImage(registry, { ...withBase({ ...BUSYBOX_CONFIG, User: '1234' }), repository: 'user-numeric' }),
    pushImage(registry, { ...withBase({ ...BUSYBOX_CONFIG, User: 'daemon' }), repository: 'user-named' }),
    pushMultiArch(registry, base),
    pushImage(registry, { repository: 'multi-layer', tags: ['latest'], layers: multiLayerLayers(base), config: BUSYBOX_CONFIG }),
  ]);
  return { busybox, oci, uncompressed, whiteout, userNumeric, userNamed, multiArch, multiLayer };
}

async function pushMultiArch(registry: RegistryTarget, base: LayerEntry[]): Promise<MultiArchImages> {
  // Both carry the host's busybox: the arm64 image is for resolving and pulling, not running.
  const push = (architecture: string, variant?: string) =>
    pushImage(registry, {
      repository: 'multi',
      tags: [],
      layers: [base, [{ type: 'file', path: '/platform', content: architecture }]],
      config: BUSYBOX_CONFIG,
      platform: { os: 'linux', architecture, variant },
    });
  const [amd64, arm64] = await Promise.all([push('amd64'), push('arm64', 'v8')]);
  const index = await pushIndex(registry, {
    repository: 'multi',
    tags: ['latest'],
    manifests: [
      { image: amd64, platform: amd64.platform },
      { image: arm64, platform: arm64.platform },
    ],
  });
  return { indexDigest: index.digest, indexMediaType: index.mediaType, amd64, arm64 };
}

/** The layers of "multi-layer:latest" (also used by the pull benchmark). */
export function multiLayerLayers(base: LayerEntry[]): LayerEntry[][] {
  const smallFiles: LayerEntry[] = Array.from({ length: 200 }, (_, index) => ({
    type: 'file',
    path: `/usr/share/caisson/file-${String(index).padStart(3, '0')}.txt`,
    content: `file ${index}\n`.repeat(64),
  }));
  return [
    base,
    smallFiles,
    [{ type: 'file', path: '/data/random.bin', content: deterministicRandomBytes(MULTI_LAYER_RANDOM_BYTES, 'multi-layer') }],
    [
      { type: 'file', path: '/etc/caisson-bench.conf', content: 'layers=4\n' },
      { type: 'hardlink', path: '/etc/caisson-bench.link', target: '/etc/caisson-bench.conf' },
    ],
  ];
}

/** Incompressible bytes that are the same on every run (AES-CTR keystream), so digests are stable. */
export function deterministicRandomBytes(size: number, seed: string): Buffer {
  const key = crypto.createHash('sha256').update(seed).digest();
  const cipher = crypto.createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}
