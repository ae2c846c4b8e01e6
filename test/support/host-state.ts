import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

// What a daemon's roots have made on the host, read straight from the kernel and the disk (no
// daemon involved): mounts, cgroups, processes, runc state, host-local IPs, directories, image
// content. host-invariants.ts compares it with what the CRI lists.

const run = promisify(execFile);

export interface HostRoots {
  readonly graph: string;
  readonly state: string;
  /** The daemon's `cgroup-parent` (cgroupfs driver), for example /caisson-churn-1234. */
  readonly cgroupParent: string;
  /** host-local's data dir (`dataDir` in the CNI config), if the daemon used a CNI network. */
  readonly hostLocalDataDir?: string;
}

const under = (file: string, roots: readonly string[]): boolean => roots.some((root) => file === root || file.startsWith(`${root}/`));
const dirsIn = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name) : []);

/** Mount points under the roots, deepest first (from /proc/self/mountinfo, octal escapes decoded). */
export function mountsUnder(roots: readonly string[]): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => (line.split(' ')[4] ?? '').replace(/\\(\d{3})/g, (_m, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((mountpoint) => mountpoint !== '' && under(mountpoint, roots))
    .sort()
    .reverse();
}

/** Mount points of every cgroup hierarchy (v1 and v2). */
export function cgroupHierarchies(): string[] {
  const hierarchies = new Set<string>();
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    const type = right?.split(' ')[0];
    if (type === 'cgroup' || type === 'cgroup2') hierarchies.add(left?.split(' ')[4] ?? '');
  }
  hierarchies.delete('');
  return [...hierarchies];
}

/** Every cgroup directory below `parent` in each mounted v1 hierarchy and in cgroup v2. */
export function cgroupsUnder(parent: string): string[] {
  const hierarchies = cgroupHierarchies();
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const name of dirsIn(dir)) {
      found.push(path.join(dir, name));
      walk(path.join(dir, name));
    }
  };
  for (const hierarchy of hierarchies) {
    const top = path.join(hierarchy, parent);
    if (!fs.existsSync(top)) continue;
    walk(top);
  }
  return found;
}

export interface HostProcess {
  readonly pid: number;
  readonly argv: string[];
}

/** Processes whose command line names one of the roots (conmon: -b <bundle> -p <pidfile> …). */
export function processesNaming(roots: readonly string[]): HostProcess[] {
  const found: HostProcess[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter((arg) => arg !== '');
    } catch {
      continue; // gone meanwhile
    }
    if (argv.some((arg) => roots.some((root) => arg.includes(root)))) found.push({ pid: Number(entry), argv });
  }
  return found;
}

/** A process's argument after `flag` (conmon's `-c <id>`). */
export function argAfter(argv: readonly string[], flag: string): string | undefined {
  const index = argv.indexOf(flag);
  return index >= 0 ? argv[index + 1] : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** PID-namespace holders recorded under <state>/sandboxes/<id>/pid-holder.pid that still run. */
export function liveHolders(state: string): { sandboxId: string; pid: number }[] {
  const dir = path.join(state, 'sandboxes');
  return dirsIn(dir).flatMap((sandboxId) => {
    const file = path.join(dir, sandboxId, 'pid-holder.pid');
    const pid = fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8').trim()) : NaN;
    return Number.isInteger(pid) && pid > 1 && isAlive(pid) ? [{ sandboxId, pid }] : [];
  });
}

/** `runc list` per runtime root under <state>/runtimes: container ID and status. */
export async function runcContainers(state: string): Promise<{ runtime: string; id: string; status: string }[]> {
  const runtimes = path.join(state, 'runtimes');
  const found: { runtime: string; id: string; status: string }[] = [];
  for (const runtime of dirsIn(runtimes)) {
    const { stdout } = await run('runc', ['--root', path.join(runtimes, runtime), 'list', '--format', 'json']);
    const list = (JSON.parse(stdout.trim() || 'null') ?? []) as { id: string; status: string }[];
    for (const c of list) found.push({ runtime, id: c.id, status: c.status });
  }
  return found;
}

/** host-local's reservations: network, IP, and the container ID written in the file. */
export function hostLocalReservations(dataDir: string | undefined): { network: string; ip: string; owner: string }[] {
  if (!dataDir) return [];
  return dirsIn(dataDir).flatMap((network) =>
    fs
      .readdirSync(path.join(dataDir, network))
      .filter((name) => /^\d+\.\d+\.\d+\.\d+$/.test(name) || name.includes(':'))
      .map((ip) => ({ network, ip, owner: (fs.readFileSync(path.join(dataDir, network, ip), 'utf8').split(/\r?\n/)[0] ?? '').trim() })),
  );
}

/** Subdirectories named after objects: <state>/sandboxes, <state>/containers, <graph>/containers. */
export function objectDirs(roots: HostRoots): { dir: string; id: string; kind: 'sandbox' | 'container' }[] {
  return [
    ...dirsIn(path.join(roots.state, 'sandboxes')).map((id) => ({ dir: path.join(roots.state, 'sandboxes', id), id, kind: 'sandbox' as const })),
    ...dirsIn(path.join(roots.state, 'containers')).map((id) => ({ dir: path.join(roots.state, 'containers', id), id, kind: 'container' as const })),
    ...dirsIn(path.join(roots.graph, 'containers')).map((id) => ({ dir: path.join(roots.graph, 'containers', id), id, kind: 'container' as const })),
  ];
}

export interface ImageContent {
  /** Digests (sha256:…) of every complete blob. */
  readonly blobs: string[];
  /** Files still in ingest/ (a partial download). */
  readonly ingest: string[];
  /** Snapshot directory names (the chain ID's hex, or a temporary name). */
  readonly snapshots: string[];
}

export function imageContent(graph: string): ImageContent {
  const root = path.join(graph, 'images');
  const blobsDir = path.join(root, 'content', 'blobs', 'sha256');
  const ingestDir = path.join(root, 'content', 'ingest');
  return {
    blobs: fs.existsSync(blobsDir) ? fs.readdirSync(blobsDir).map((hex) => `sha256:${hex}`) : [],
    ingest: fs.existsSync(ingestDir) ? fs.readdirSync(ingestDir) : [],
    snapshots: fs.existsSync(path.join(root, 'snapshots')) ? fs.readdirSync(path.join(root, 'snapshots')) : [],
  };
}

/** What the listed images need: their manifests, configs, layers, and the snapshots of their chains. */
export function contentOf(graph: string, imageIds: ReadonlySet<string>): { blobs: Set<string>; snapshots: Set<string> } {
  const blobsDir = path.join(graph, 'images', 'content', 'blobs', 'sha256');
  const read = (digest: string): unknown => {
    try {
      return JSON.parse(fs.readFileSync(path.join(blobsDir, digest.replace(/^sha256:/, '')), 'utf8'));
    } catch {
      return undefined; // a layer, or not there
    }
  };
  const blobs = new Set<string>();
  const snapshots = new Set<string>();
  const manifests = new Set<string>();
  for (const digest of imageContent(graph).blobs) {
    const manifest = read(digest) as { config?: { digest?: string }; layers?: { digest: string }[] } | undefined;
    const configDigest = manifest?.config?.digest;
    if (!configDigest || !imageIds.has(configDigest)) continue;
    manifests.add(digest);
    blobs.add(digest);
    blobs.add(configDigest);
    for (const layer of manifest?.layers ?? []) blobs.add(layer.digest);
    const diffIds = ((read(configDigest) as { rootfs?: { diff_ids?: string[] } } | undefined)?.rootfs?.diff_ids ?? []);
    let chain = '';
    for (const diffId of diffIds) {
      chain = chain === '' ? diffId : `sha256:${createHash('sha256').update(`${chain} ${diffId}`).digest('hex')}`;
      snapshots.add(chain.replace(/^sha256:/, ''));
    }
  }
  // An index (multi-platform list) is kept when it names a kept manifest.
  for (const digest of imageContent(graph).blobs) {
    const index = read(digest) as { manifests?: { digest: string }[] } | undefined;
    if (index?.manifests?.some((m) => manifests.has(m.digest))) blobs.add(digest);
  }
  return { blobs, snapshots };
}
