import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { runProgram } from '../../../core/host-programs/run-program';
import { makeTempRoot, removeTempRoot } from '../temp-root';
import { RegistryClient, type RegistryTarget } from '../registry/registry-client';
import { buildLayerTar, type LayerEntry } from './layer-tar';

// Builds test images (layers from entries, a config, a manifest) and pushes them to a registry
// over the distribution API, the way `docker push` does: HEAD each blob, upload the missing ones
// monolithically (POST, then PUT with the digest), then PUT the manifest under each tag.
// Everything is deterministic, so an image's digests are the same on every run and every host
// with the same busybox.

export type { LayerEntry } from './layer-tar';
export type { RegistryTarget } from '../registry/registry-client';

export interface ImageConfigSpec {
  User?: string;
  Env?: string[];
  Cmd?: string[];
  Entrypoint?: string[];
  WorkingDir?: string;
  ExposedPorts?: Record<string, object>;
  Volumes?: Record<string, object>;
  StopSignal?: string;
  Labels?: Record<string, string>;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface PushImageOptions {
  repository: string;
  /** Empty: push by digest only (as the per-platform images of a multi-arch index are). */
  tags: string[];
  /** Each inner array is one layer, bottom first. */
  layers: LayerEntry[][];
  /** Written as given: no Env, Cmd or PATH is added. */
  config?: ImageConfigSpec;
  /** Docker v2 schema 2 media types (the default) or OCI. */
  format?: 'docker' | 'oci';
  /** Layer compression, gzip by default; zstd (the `zstd` program) only with format 'oci'. */
  compression?: LayerCompression;
  /** Defaults to linux on the host's architecture. */
  platform?: Platform;
  /**
   * Changes a layer's compressed bytes before its digest is taken: a layer that is broken (a
   * corrupt stream) yet matches its manifest, as a faulty build tool could publish.
   */
  rewriteLayerBlob?: (blob: Buffer, layerIndex: number) => Buffer;
}

export type LayerCompression = 'gzip' | 'zstd' | 'none';

export interface PushedLayer {
  digest: string;
  diffId: string;
  size: number;
  mediaType: string;
}

export interface PushedImage {
  repository: string;
  tags: string[];
  manifestDigest: string;
  /** Bytes of the manifest (what an index's descriptor needs). */
  manifestSize: number;
  manifestMediaType: string;
  configDigest: string;
  layers: PushedLayer[];
  /** Manifest + config + layer blobs, as containerd's images.Size counts an image. */
  totalSize: number;
  platform: Platform;
}

export const MEDIA_TYPES = {
  docker: {
    manifest: 'application/vnd.docker.distribution.manifest.v2+json',
    index: 'application/vnd.docker.distribution.manifest.list.v2+json',
    config: 'application/vnd.docker.container.image.v1+json',
    layerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
    layer: 'application/vnd.docker.image.rootfs.diff.tar',
    layerZstd: undefined,
  },
  oci: {
    manifest: 'application/vnd.oci.image.manifest.v1+json',
    index: 'application/vnd.oci.image.index.v1+json',
    config: 'application/vnd.oci.image.config.v1+json',
    layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
    layer: 'application/vnd.oci.image.layer.v1.tar',
    layerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  },
} as const;

/** The `created` of every test image and its history, fixed so digests do not change between runs. */
export const IMAGE_CREATED = '2000-01-01T00:00:00Z';

/** linux on the host's architecture, in Go's (and OCI's) names. */
export function hostPlatform(): Platform {
  const names: Partial<Record<NodeJS.Architecture, string>> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return { os: 'linux', architecture: names[process.arch] ?? process.arch };
}

export function sha256(data: Buffer | string): string {
  return `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`;
}

export async function pushImage(registry: RegistryTarget, options: PushImageOptions): Promise<PushedImage> {
  const format = options.format ?? 'docker';
  const media = MEDIA_TYPES[format];
  const compression = options.compression ?? 'gzip';
  const layerMediaType = { gzip: media.layerGzip, none: media.layer, zstd: media.layerZstd }[compression];
  if (!layerMediaType) throw new Error(`pushImage: ${compression} layers need format 'oci' (Docker schema 2 has no ${compression} layer type)`);
  const platform = options.platform ?? hostPlatform();
  const client = new RegistryClient(registry);

  const layers: (PushedLayer & { blob: Buffer })[] = [];
  for (const [index, entries] of options.layers.entries()) {
    const tar = await buildLayerTar(entries);
    const compressed = await compress(tar, compression);
    const blob = options.rewriteLayerBlob ? options.rewriteLayerBlob(compressed, index) : compressed;
    layers.push({ digest: sha256(blob), diffId: sha256(tar), size: blob.length, mediaType: layerMediaType, blob });
  }

  const config = Buffer.from(
    JSON.stringify(
      {
        created: IMAGE_CREATED,
        architecture: platform.architecture,
        ...(platform.variant ? { variant: platform.variant } : {}),
        os: platform.os,
        config: options.config ?? {},
        rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.diffId) },
        history: layers.map((_, index) => ({ created: IMAGE_CREATED, created_by: `caisson test image builder: layer ${index}` })),
      },
      null,
      2,
    ),
  );
  const configDigest = sha256(config);

  for (const layer of layers) await pushBlob(client, options.repository, layer.digest, layer.blob);
  await pushBlob(client, options.repository, configDigest, config);

  const manifest = Buffer.from(
    JSON.stringify(
      {
        schemaVersion: 2,
        mediaType: media.manifest,
        config: { mediaType: media.config, size: config.length, digest: configDigest },
        layers: layers.map((layer) => ({ mediaType: layer.mediaType, size: layer.size, digest: layer.digest })),
      },
      null,
      2,
    ),
  );
  const manifestDigest = await pushManifest(client, options.repository, options.tags, manifest, media.manifest);

  return {
    repository: options.repository,
    tags: [...options.tags],
    manifestDigest,
    manifestSize: manifest.length,
    manifestMediaType: media.manifest,
    configDigest,
    layers: layers.map(({ digest, diffId, size, mediaType }) => ({ digest, diffId, size, mediaType })),
    totalSize: manifest.length + config.length + layers.reduce((sum, layer) => sum + layer.size, 0),
    platform,
  };
}

/** Compresses a layer tar the same way every time, so the same tar always gives the same blob. */
async function compress(tar: Buffer, compression: LayerCompression): Promise<Buffer> {
  switch (compression) {
    case 'none':
      return tar;
    case 'gzip':
      // level 6 and no file name or mtime in the gzip header.
      return zlib.gzipSync(tar, { level: 6 });
    case 'zstd': {
      // Node 20 has no zstd in zlib. Through a file, since runProgram keeps stdout as text.
      const dir = makeTempRoot('zstd');
      try {
        const output = path.join(dir, 'layer.tar.zst');
        await runProgram('zstd', ['-q', '-3', '-o', output], { input: tar, timeoutMs: 60_000 });
        return fs.readFileSync(output);
      } finally {
        removeTempRoot(dir);
      }
    }
  }
}

export interface PushIndexOptions {
  repository: string;
  tags: string[];
  manifests: { image: PushedImage; platform: Platform }[];
  format?: 'docker' | 'oci';
}

/** Pushes a manifest list (docker) or image index (oci) of images already pushed to the same repository. */
export async function pushIndex(registry: RegistryTarget, options: PushIndexOptions): Promise<{ digest: string; mediaType: string }> {
  const media = MEDIA_TYPES[options.format ?? 'docker'];
  for (const { image } of options.manifests) {
    // The registry checks that every manifest an index names is in the index's repository.
    if (image.repository !== options.repository) {
      throw new Error(`pushIndex: image ${image.manifestDigest} is in "${image.repository}", not "${options.repository}"; push it there first`);
    }
  }
  const index = Buffer.from(
    JSON.stringify(
      {
        schemaVersion: 2,
        mediaType: media.index,
        manifests: options.manifests.map(({ image, platform }) => ({
          mediaType: image.manifestMediaType,
          size: image.manifestSize,
          digest: image.manifestDigest,
          platform: { architecture: platform.architecture, os: platform.os, ...(platform.variant ? { variant: platform.variant } : {}) },
        })),
      },
      null,
      2,
    ),
  );
  const client = new RegistryClient(registry);
  const digest = await pushManifest(client, options.repository, options.tags, index, media.index);
  return { digest, mediaType: media.index };
}

async function pushBlob(client: RegistryClient, repository: string, digest: string, blob: Buffer): Promise<void> {
  const blobPath = `/v2/${repository}/blobs/${digest}`;
  const existing = await client.expect([200, 404], 'HEAD', blobPath, { repository });
  if (existing.status === 200) return;
  const started = await client.expect([202], 'POST', `/v2/${repository}/blobs/uploads/`, { repository, headers: { 'Content-Length': '0' } });
  const location = started.headers.location;
  if (!location) throw new Error(`POST /v2/${repository}/blobs/uploads/ answered 202 without a Location`);
  // Location may be relative and already carries the upload's state in its query.
  const uploadUrl = new URL(location, client.baseUrl);
  uploadUrl.searchParams.set('digest', digest);
  await client.expect([201], 'PUT', uploadUrl.href, { repository, headers: { 'Content-Type': 'application/octet-stream' }, body: blob });
}

/** PUTs the manifest under each tag (or by digest when there are none) and checks the registry's digest. */
async function pushManifest(client: RegistryClient, repository: string, tags: string[], manifest: Buffer, mediaType: string): Promise<string> {
  const digest = sha256(manifest);
  for (const reference of tags.length > 0 ? tags : [digest]) {
    const response = await client.expect([201], 'PUT', `/v2/${repository}/manifests/${reference}`, {
      repository,
      headers: { 'Content-Type': mediaType },
      body: manifest,
    });
    const stored = response.headers['docker-content-digest'];
    if (stored !== digest) throw new Error(`registry stored ${repository}:${reference} as ${String(stored)}, expected ${digest}`);
  }
  return digest;
}

// ---- busybox ----

export const BUSYBOX_PATH = '/bin/busybox';

/** Applets linked in /bin by default: enough for shells, probes, networking and file tests. */
export const DEFAULT_APPLETS: readonly string[] = [
  'sh', 'ash', 'echo', 'printf', 'sleep', 'cat', 'ls', 'id', 'env', 'true', 'false', 'head', 'tail', 'wc', 'dd',
  'touch', 'mkdir', 'rmdir', 'rm', 'cp', 'mv', 'ln', 'chmod', 'chown', 'ps', 'kill', 'grep', 'sed', 'awk', 'tr',
  'sort', 'uniq', 'cut', 'tee', 'xargs', 'find', 'test', '[', 'expr', 'seq', 'yes', 'date', 'uname', 'hostname',
  'whoami', 'pwd', 'basename', 'dirname', 'realpath', 'readlink', 'stat', 'df', 'du', 'mount', 'umount', 'nproc',
  'timeout', 'sha256sum', 'md5sum', 'httpd', 'nc', 'wget', 'ping', 'ip', 'ifconfig', 'nslookup', 'netstat', 'top', 'free',
];

let busyboxBytes: Buffer | undefined;

/**
 * A root filesystem around the host's static busybox: /bin/busybox (0755) with applet symlinks,
 * /etc/passwd and /etc/group (root, daemon, nobody, and "app" 1234:1234 also in "extra" 2000),
 * /tmp (1777), /root (0700), /home/app (owned by app) and empty /dev, /proc, /sys.
 */
export function busyboxBaseLayer(applets: readonly string[] = DEFAULT_APPLETS): LayerEntry[] {
  busyboxBytes ??= fs.readFileSync(BUSYBOX_PATH);
  return [
    { type: 'dir', path: '/bin', mode: 0o755 },
    { type: 'dir', path: '/dev', mode: 0o755 },
    { type: 'dir', path: '/etc', mode: 0o755 },
    { type: 'dir', path: '/home', mode: 0o755 },
    { type: 'dir', path: '/home/app', mode: 0o755, uid: 1234, gid: 1234 },
    { type: 'dir', path: '/proc', mode: 0o555 },
    { type: 'dir', path: '/root', mode: 0o700 },
    { type: 'dir', path: '/sys', mode: 0o555 },
    { type: 'dir', path: '/tmp', mode: 0o1777 },
    { type: 'file', path: '/bin/busybox', content: busyboxBytes, mode: 0o755 },
    ...applets.map((applet): LayerEntry => ({ type: 'symlink', path: `/bin/${applet}`, target: 'busybox' })),
    { type: 'file', path: '/etc/passwd', content: PASSWD, mode: 0o644 },
    { type: 'file', path: '/etc/group', content: GROUP, mode: 0o644 },
  ];
}

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/usr/sbin:/bin/false',
  'app:x:1234:1234:app:/home/app:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
  '',
].join('\n');

const GROUP = ['root:x:0:', 'daemon:x:1:', 'app:x:1234:', 'extra:x:2000:app', 'nogroup:x:65534:', ''].join('\n');
