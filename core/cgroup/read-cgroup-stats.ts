import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CgroupStats } from '../tokens';
import { CGROUP_ROOT, type CgroupMode } from './cgroup-mode';
import { nowNanos } from '../clock/unix-nanos';

// A cgroup's usage, read from its files. The parse functions are pure (over file contents, with
// `undefined` for a file that is not there); `readCgroupStats` is the thin part that reads them.
//
// v1 (and hybrid, whose controllers are v1): cpuacct.usage; memory.usage_in_bytes, memory.stat
// (the total_* keys, which include descendants), memory.limit_in_bytes, memory.memsw.* (absent
// when the kernel does not account swap); pids.current.
// v2: cpu.stat usage_usec; memory.current, memory.stat, memory.max, memory.swap.*; pids.current.
//
// A cgroup whose directory is gone (its container exited and runc removed it) reads as
// undefined. An optional file that is missing reads as 0 (counters) or undefined (limits, swap).
// A required file missing from a directory that does exist is an error: the layout is not the
// one this reader expects, and zeros would hide that.

export type CgroupController = 'cpuacct' | 'cpu' | 'memory' | 'pids';

/**
 * Where a controller's directory of the cgroup is; undefined when no hierarchy of the host
 * carries that controller (on v2 every controller is in the one directory).
 */
export type ControllerDirFinder = (controller: CgroupController) => string | undefined;

/** v1 limits at or above this are "unlimited" (the kernel writes PAGE_COUNTER_MAX pages). */
const V1_UNLIMITED = 2n ** 62n;

/** The contents of the v1 files the reader uses; undefined for a file that is not there. */
export interface V1Files {
  readonly cpuacctUsage: string | undefined;
  readonly memoryUsage: string | undefined;
  readonly memoryStat: string | undefined;
  readonly memoryLimit: string | undefined;
  readonly memswUsage: string | undefined;
  readonly memswLimit: string | undefined;
  readonly pidsCurrent: string | undefined;
}

/** The contents of the v2 files the reader uses; undefined for a file that is not there. */
export interface V2Files {
  readonly cpuStat: string | undefined;
  readonly memoryCurrent: string | undefined;
  readonly memoryStat: string | undefined;
  readonly memoryMax: string | undefined;
  readonly swapCurrent: string | undefined;
  readonly swapMax: string | undefined;
  readonly pidsCurrent: string | undefined;
}

/** "key value" lines (memory.stat, cpu.stat) as a map; lines of another shape are skipped. */
export function parseFlatKeyed(content: string): Map<string, bigint> {
  const values = new Map<string, bigint>();
  for (const line of content.split('\n')) {
    const [key, value, ...rest] = line.trim().split(/\s+/);
    if (key === undefined || key === '' || value === undefined || rest.length > 0 || !/^\d+$/.test(value)) continue;
    values.set(key, BigInt(value));
  }
  return values;
}

/** A file holding one unsigned integer (cpuacct.usage, memory.current, pids.current, …). */
export function parseSingleValue(content: string, file: string): bigint {
  const text = content.trim();
  if (!/^\d+$/.test(text)) throw new Error(`cgroup file ${file} holds "${text}", not an unsigned integer`);
  return BigInt(text);
}

/** A v1 limit (memory.limit_in_bytes, memory.memsw.limit_in_bytes): undefined when unlimited. */
export function parseV1Limit(content: string, file: string): number | undefined {
  const value = parseSingleValue(content, file);
  return value >= V1_UNLIMITED ? undefined : Number(value);
}

/** A v2 limit (memory.max, memory.swap.max): "max" is unlimited. */
export function parseV2Limit(content: string, file: string): number | undefined {
  return content.trim() === 'max' ? undefined : Number(parseSingleValue(content, file));
}

/** Usage minus inactive file pages, never below 0 (the two are not read at the same instant). */
export function workingSet(usageBytes: number, inactiveFileBytes: number): number {
  return Math.max(0, usageBytes - inactiveFileBytes);
}

export function v1Stats(files: V1Files, timestampNanos: bigint): CgroupStats {
  const usageBytes = Number(parseSingleValue(required(files.memoryUsage, 'memory.usage_in_bytes'), 'memory.usage_in_bytes'));
  const stat = parseFlatKeyed(required(files.memoryStat, 'memory.stat'));
  const limitBytes = optional(files.memoryLimit, (c) => parseV1Limit(c, 'memory.limit_in_bytes'));
  const memswUsage = optional(files.memswUsage, (c) => Number(parseSingleValue(c, 'memory.memsw.usage_in_bytes')));
  const memswLimit = optional(files.memswLimit, (c) => parseV1Limit(c, 'memory.memsw.limit_in_bytes'));
  return {
    timestampNanos,
    cpuUsageNanos: parseSingleValue(required(files.cpuacctUsage, 'cpuacct.usage'), 'cpuacct.usage'),
    memory: {
      usageBytes,
      workingSetBytes: workingSet(usageBytes, statNumber(stat, 'total_inactive_file')),
      rssBytes: statNumber(stat, 'total_rss'),
      pageFaults: statNumber(stat, 'total_pgfault'),
      majorPageFaults: statNumber(stat, 'total_pgmajfault'),
      limitBytes,
      // memsw counts memory and swap together; swap is what is beyond memory.
      swapUsageBytes: memswUsage === undefined ? undefined : Math.max(0, memswUsage - usageBytes),
      swapLimitBytes: memswLimit === undefined || limitBytes === undefined ? undefined : Math.max(0, memswLimit - limitBytes),
    },
    pids: pidsOf(files.pidsCurrent),
  };
}

export function v2Stats(files: V2Files, timestampNanos: bigint): CgroupStats {
  const cpu = parseFlatKeyed(required(files.cpuStat, 'cpu.stat'));
  const usageUsec = cpu.get('usage_usec');
  if (usageUsec === undefined) throw new Error('cgroup file cpu.stat has no usage_usec line');
  const usageBytes = Number(parseSingleValue(required(files.memoryCurrent, 'memory.current'), 'memory.current'));
  const stat = parseFlatKeyed(required(files.memoryStat, 'memory.stat'));
  return {
    timestampNanos,
    cpuUsageNanos: usageUsec * 1000n,
    memory: {
      usageBytes,
      workingSetBytes: workingSet(usageBytes, statNumber(stat, 'inactive_file')),
      rssBytes: statNumber(stat, 'anon'),
      pageFaults: statNumber(stat, 'pgfault'),
      majorPageFaults: statNumber(stat, 'pgmajfault'),
      limitBytes: optional(files.memoryMax, (c) => parseV2Limit(c, 'memory.max')),
      swapUsageBytes: optional(files.swapCurrent, (c) => Number(parseSingleValue(c, 'memory.swap.current'))),
      swapLimitBytes: optional(files.swapMax, (c) => parseV2Limit(c, 'memory.swap.max')),
    },
    pids: pidsOf(files.pidsCurrent),
  };
}

/**
 * Reads a cgroup's stats. `dirFor` says where each controller's directory of the cgroup is.
 * Undefined when the cgroup's directories are gone.
 */
export async function readCgroupStats(mode: CgroupMode, dirFor: ControllerDirFinder): Promise<CgroupStats | undefined> {
  const timestampNanos = nowNanos();
  if (mode === 'v2') {
    const dir = mountedDir(dirFor, 'memory');
    const files: V2Files = {
      cpuStat: await readOptional(dir, 'cpu.stat'),
      memoryCurrent: await readOptional(dir, 'memory.current'),
      memoryStat: await readOptional(dir, 'memory.stat'),
      memoryMax: await readOptional(dir, 'memory.max'),
      swapCurrent: await readOptional(dir, 'memory.swap.current'),
      swapMax: await readOptional(dir, 'memory.swap.max'),
      pidsCurrent: await readOptional(dir, 'pids.current'),
    };
    const requiredFiles = [files.cpuStat, files.memoryCurrent, files.memoryStat];
    if (requiredFiles.some((content) => content === undefined) && !(await exists(dir))) return undefined;
    return withDir(dir, () => v2Stats(files, timestampNanos));
  }
  const cpuacctDir = mountedDir(dirFor, 'cpuacct');
  const memoryDir = mountedDir(dirFor, 'memory');
  const pidsDir = dirFor('pids');
  const files: V1Files = {
    cpuacctUsage: await readOptional(cpuacctDir, 'cpuacct.usage'),
    memoryUsage: await readOptional(memoryDir, 'memory.usage_in_bytes'),
    memoryStat: await readOptional(memoryDir, 'memory.stat'),
    memoryLimit: await readOptional(memoryDir, 'memory.limit_in_bytes'),
    memswUsage: await readOptional(memoryDir, 'memory.memsw.usage_in_bytes'),
    memswLimit: await readOptional(memoryDir, 'memory.memsw.limit_in_bytes'),
    pidsCurrent: pidsDir === undefined ? undefined : await readOptional(pidsDir, 'pids.current'),
  };
  // runc removes a container's directories one hierarchy after another: either one gone is gone.
  if (files.cpuacctUsage === undefined && !(await exists(cpuacctDir))) return undefined;
  if ((files.memoryUsage === undefined || files.memoryStat === undefined) && !(await exists(memoryDir))) return undefined;
  return withDir(files.cpuacctUsage === undefined ? cpuacctDir : memoryDir, () => v1Stats(files, timestampNanos));
}

/**
 * A `ControllerDirFinder` over a driver's `cgroupDirs`: on v1 the directory in the hierarchy
 * whose mount point under `root` names the controller ("cpuacct", or a co-mount such as
 * "cpu,cpuacct"); on v2 the one directory.
 */
export function controllerDirIn(mode: CgroupMode, dirs: readonly string[], root: string = CGROUP_ROOT): ControllerDirFinder {
  if (mode === 'v2') return () => dirs[0];
  return (controller) =>
    dirs.find((dir) => {
      const hierarchy = path.posix.relative(root, dir).split('/')[0] ?? '';
      return hierarchy.split(',').includes(controller);
    });
}

function required(content: string | undefined, file: string): string {
  if (content === undefined) throw new Error(`cgroup file ${file} is missing`);
  return content;
}

function optional<T>(content: string | undefined, parse: (content: string) => T): T | undefined {
  return content === undefined ? undefined : parse(content);
}

function statNumber(stat: Map<string, bigint>, key: string): number {
  return Number(stat.get(key) ?? 0n);
}

function pidsOf(content: string | undefined): number {
  return content === undefined ? 0 : Number(parseSingleValue(content, 'pids.current'));
}

function mountedDir(dirFor: ControllerDirFinder, controller: CgroupController): string {
  const dir = dirFor(controller);
  if (dir === undefined) throw new Error(`no cgroup hierarchy with the ${controller} controller is mounted under ${CGROUP_ROOT}`);
  return dir;
}

/** Puts the directory into a parse error's message, so it says which cgroup was wrong. */
function withDir(dir: string, parse: () => CgroupStats): CgroupStats {
  try {
    return parse();
  } catch (error) {
    throw new Error(`reading the stats of cgroup ${dir}: ${(error as Error).message}`, { cause: error });
  }
}

async function readOptional(dir: string, file: string): Promise<string | undefined> {
  try {
    return await fs.promises.readFile(path.join(dir, file), 'utf8');
  } catch (error) {
    // ENODEV: the cgroup was removed while its file was being read.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENODEV') return undefined;
    throw error;
  }
}

async function exists(dir: string): Promise<boolean> {
  try {
    await fs.promises.stat(dir);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
