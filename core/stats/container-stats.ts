import type { ContainerAttributes } from '../cri/generated/runtime/v1/ContainerAttributes';
import type { ContainerStats } from '../cri/generated/runtime/v1/ContainerStats';
import type { FilesystemUsage } from '../cri/generated/runtime/v1/FilesystemUsage';
import type { ContainerRecord } from '../containers/container-record';
import type { FsUsage } from '../images/fs-usage';
import type { CgroupStats } from '../tokens';
import { cpuUsage, memoryUsage, swapUsage, u64 } from './cgroup-usage';
import type { StatsSources } from './stats-sources';
import { nowNanos } from '../clock/unix-nanos';

// CRI ContainerStats of one container: its attributes; CPU, memory and swap from its cgroup; the
// writable layer (the overlay upper directory) from disk. An exited container (its cgroup gone,
// or about to go) answers with its attributes and writable layer only: no cpu, memory or swap.

export interface ContainerStatsInput {
  /** The container's cgroup stats and CPU rate; undefined when it has no cgroup (exited). */
  readonly cgroup?: { readonly stats: CgroupStats; readonly usageNanoCores: number | undefined };
  /** Usage of the writable layer and when it was measured; undefined when it is gone. */
  readonly writableLayer?: { readonly usage: FsUsage; readonly timestampNanos: bigint };
  readonly hostSwapTotalBytes?: number;
}

export function containerAttributes(record: ContainerRecord): ContainerAttributes {
  return {
    id: record.id,
    metadata: record.config.metadata,
    labels: record.config.labels,
    annotations: record.config.annotations,
  };
}

/** The message, pure. */
export function containerStatsMessage(record: ContainerRecord, input: ContainerStatsInput): ContainerStats {
  const message: ContainerStats = { attributes: containerAttributes(record), cpu: null, memory: null, swap: null, writable_layer: null };
  if (input.cgroup) {
    message.cpu = cpuUsage(input.cgroup.stats, input.cgroup.usageNanoCores);
    message.memory = memoryUsage(input.cgroup.stats);
    message.swap = swapUsage(input.cgroup.stats, input.hostSwapTotalBytes);
  }
  if (input.writableLayer) message.writable_layer = writableLayerUsage(record.paths.upper, input.writableLayer.usage, input.writableLayer.timestampNanos);
  return message;
}

export function writableLayerUsage(upperDir: string, usage: FsUsage, timestampNanos: bigint): FilesystemUsage {
  return {
    timestamp: timestampNanos.toString(),
    fs_id: { mountpoint: upperDir },
    used_bytes: u64(usage.usedBytes),
    inodes_used: u64(usage.inodesUsed),
  };
}

/** Reads what the message needs and builds it. */
export async function readContainerStats(record: ContainerRecord, sources: StatsSources): Promise<ContainerStats> {
  return containerStatsMessage(record, await readContainerStatsInput(record, sources));
}

/**
 * Reads a container's cgroup, writable layer and the host's swap. `trackCpuRate` false reads
 * without moving the CPU rate baseline (metrics need only the counter).
 */
export async function readContainerStatsInput(record: ContainerRecord, sources: StatsSources, trackCpuRate = true): Promise<ContainerStatsInput> {
  const [cgroup, writableLayer, hostSwapTotalBytes] = await Promise.all([
    readCgroup(record, sources, trackCpuRate),
    readWritableLayer(record.paths.upper, sources),
    sources.hostSwapTotal(),
  ]);
  return { cgroup, writableLayer, hostSwapTotalBytes };
}

async function readCgroup(record: ContainerRecord, sources: StatsSources, trackCpuRate: boolean): Promise<ContainerStatsInput['cgroup']> {
  // runc removes an exited container's cgroup; until it has, its numbers are the dead process's.
  if (record.state === 'CONTAINER_EXITED') return undefined;
  const stats = await sources.driver.readStats(record.cgroupsPath);
  if (stats === undefined) return undefined;
  const sample = { cpuNanos: stats.cpuUsageNanos, timestampNanos: stats.timestampNanos };
  return { stats, usageNanoCores: trackCpuRate ? sources.cpuRates.sample(record.id, sample) : undefined };
}

async function readWritableLayer(upperDir: string, sources: StatsSources): Promise<ContainerStatsInput['writableLayer']> {
  const timestampNanos = nowNanos();
  try {
    return { usage: await sources.diskUsage(upperDir), timestampNanos };
  } catch (error) {
    // The container was removed while we looked.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
