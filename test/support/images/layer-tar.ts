import * as path from 'node:path';
import * as tarStream from 'tar-stream';

// One image layer as a tar archive, built in memory and byte-for-byte reproducible: fixed mtime,
// owners 0:0 unless given, no user or group names, entries in the order the caller lists them.
// The same entries always give the same diffID, so layers shared between test images (the
// busybox base) are shared in the registry too, as they are between real images.

export type LayerEntry =
  | { type: 'file'; path: string; content: string | Buffer; mode?: number; uid?: number; gid?: number }
  | { type: 'dir'; path: string; mode?: number; uid?: number; gid?: number }
  | { type: 'symlink'; path: string; target: string }
  /** `target` is the path of an entry earlier in the same layer. */
  | { type: 'hardlink'; path: string; target: string }
  /** Hides `path` of the layers below: an empty file "<dir>/.wh.<name>". */
  | { type: 'whiteout'; path: string }
  /** Hides everything the layers below have in directory `path`: "<path>/.wh..wh..opq". */
  | { type: 'opaque'; path: string };

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';

/** 2000-01-01T00:00:00Z: a constant, and not 0, which some tools treat as "unset". */
export const LAYER_MTIME = new Date(Date.UTC(2000, 0, 1));

// tar-stream replaces a mode of 0 with its default, so the file-type bits ride along in the mode
// (the header keeps only the permission bits): a mode 0 file stays mode 0.
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/**
 * The uncompressed tar of one layer. A parent directory that the entries do not list is added
 * (0755, root) just before its first child, as tar and image builders do; a directory the
 * entries do list appears where they list it, with their mode and owner.
 */
export async function buildLayerTar(entries: readonly LayerEntry[]): Promise<Buffer> {
  const headers = layerHeaders(entries);
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pack.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
  for (const { header, content } of headers) {
    if (content) pack.entry(header, content);
    else pack.entry(header);
  }
  pack.finalize();
  return done;
}

type TarHeader = Parameters<tarStream.Pack['entry']>[0];

interface HeaderAndContent {
  readonly header: TarHeader;
  readonly content?: Buffer;
}

function layerHeaders(entries: readonly LayerEntry[]): HeaderAndContent[] {
  const listedDirs = new Set(entries.filter((entry) => entry.type === 'dir').map((entry) => tarName(entry.path)));
  const emittedDirs = new Set<string>();
  const result: HeaderAndContent[] = [];
  const base = { mtime: LAYER_MTIME, uid: 0, gid: 0, uname: '', gname: '' };

  const addParents = (name: string): void => {
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (listedDirs.has(dir) || emittedDirs.has(dir)) continue;
      emittedDirs.add(dir);
      result.push({ header: { ...base, name: `${dir}/`, type: 'directory', mode: S_IFDIR | 0o755 } });
    }
  };

  for (const entry of entries) {
    const name = tarName(entry.path);
    switch (entry.type) {
      case 'file': {
        addParents(name);
        const content = typeof entry.content === 'string' ? Buffer.from(entry.content) : entry.content;
        const header = { ...base, name, type: 'file' as const, mode: S_IFREG | (entry.mode ?? 0o644), uid: entry.uid ?? 0, gid: entry.gid ?? 0 };
        result.push({ header, content });
        break;
      }
      case 'dir':
        addParents(name);
        emittedDirs.add(name);
        result.push({ header: { ...base, name: `${name}/`, type: 'directory', mode: S_IFDIR | (entry.mode ?? 0o755), uid: entry.uid ?? 0, gid: entry.gid ?? 0 } });
        break;
      case 'symlink':
        addParents(name);
        // A symlink's target is kept as written: relative ("busybox") or absolute ("/bin/busybox").
        result.push({ header: { ...base, name, type: 'symlink', linkname: entry.target, mode: S_IFLNK | 0o777 } });
        break;
      case 'hardlink':
        addParents(name);
        // A hard link names another member of the archive, so the target is a tar name too.
        result.push({ header: { ...base, name, type: 'link', linkname: tarName(entry.target), mode: S_IFREG | 0o644 } });
        break;
      case 'whiteout': {
        const whiteout = path.posix.join(path.posix.dirname(name), WHITEOUT_PREFIX + path.posix.basename(name));
        addParents(whiteout);
        result.push({ header: { ...base, name: whiteout, type: 'file', mode: S_IFREG | 0o644 }, content: Buffer.alloc(0) });
        break;
      }
      case 'opaque': {
        const marker = `${name}/${OPAQUE_MARKER}`;
        addParents(marker);
        result.push({ header: { ...base, name: marker, type: 'file', mode: S_IFREG | 0o644 }, content: Buffer.alloc(0) });
        break;
      }
    }
  }
  return result;
}

/** "/etc/passwd" → "etc/passwd": layer tars hold paths relative to the root, without "..". */
export function tarName(entryPath: string): string {
  const name = path.posix.normalize(entryPath).replace(/^\/+/, '').replace(/\/+$/, '');
  if (name === '' || name === '.' || name.split('/').includes('..')) throw new Error(`not a path inside a layer: "${entryPath}"`);
  return name;
}

export interface LayerTarMember {
  readonly name: string;
  readonly type: string;
  /** Permission bits only (07777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly linkname?: string;
  readonly content: Buffer;
}

/** The members of an uncompressed layer tar, in order (for tests that look inside a pulled layer). */
export async function listLayerTar(tar: Buffer): Promise<LayerTarMember[]> {
  const members: LayerTarMember[] = [];
  const extract = tarStream.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('finish', () => resolve());
    extract.on('error', reject);
  });
  extract.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
    stream.on('end', () => {
      members.push({
        name: header.name,
        type: header.type,
        mode: header.mode & 0o7777,
        uid: header.uid,
        gid: header.gid,
        ...(header.linkname ? { linkname: header.linkname } : {}),
        content: Buffer.concat(chunks),
      });
      next();
    });
  });
  extract.end(tar);
  await done;
  return members;
}
