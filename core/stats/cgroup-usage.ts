import type { CpuUsage } from '../cri/generated/runtime/v1/CpuUsage';
import type { MemoryUsage } from '../cri/generated/runtime/v1/MemoryUsage';
import type { ProcessUsage } from '../cri/generated/runtime/v1/ProcessUsage';
import type { SwapUsage } from '../cri/generated/runtime/v1/SwapUsage';
import type { UInt64Value } from '../cri/generated/runtime/v1/UInt64Value';
import type { CgroupStats } from '../tokens';

// CgroupStats → the CRI usage messages, pure. Shared by container and pod sandbox stats. A value
// the cgroup does not give is left out (a null UInt64Value), never filled in with 0.

/** A CRI UInt64Value, or null (the field is absent on the wire) when the value is unknown. */
export function u64(value: number | bigint | undefined): UInt64Value | null {
  if (value === undefined) return null;
  return { value: typeof value === 'bigint' ? value.toString() : String(Math.max(0, Math.floor(value))) };
}

/** `usageNanoCores`: the rate from CpuRateTracker, undefined on a first sample. */
export function cpuUsage(stats: CgroupStats, usageNanoCores: number | undefined): CpuUsage {
  return {
    timestamp: stats.timestampNanos.toString(),
    usage_core_nano_seconds: u64(stats.cpuUsageNanos),
    usage_nano_cores: u64(usageNanoCores),
  };
}

export function memoryUsage(stats: CgroupStats): MemoryUsage {
  const memory = stats.memory;
  return {
    timestamp: stats.timestampNanos.toString(),
    working_set_bytes: u64(memory.workingSetBytes),
    // The CRI defines it as limit − working set; with no limit there is no such figure.
    available_bytes: u64(memory.limitBytes === undefined ? undefined : Math.max(0, memory.limitBytes - memory.workingSetBytes)),
    usage_bytes: u64(memory.usageBytes),
    rss_bytes: u64(memory.rssBytes),
    page_faults: u64(memory.pageFaults),
    major_page_faults: u64(memory.majorPageFaults),
  };
}

/**
 * Swap (new in CRI 1.29). What is reported is what is known:
 * - the kernel does not account swap for the cgroup (v1 without memory.memsw.*, v2 without
 *   memory.swap.current): both values are absent (null), not 0;
 * - it does, and the host has no swap space (SwapTotal 0): nothing is swapped and nothing can
 *   be, so both are 0 (the cgroup reader's memsw − usage would only be the skew of two reads);
 * - it does, and the host has swap: usage as the cgroup says, available = swap limit − usage
 *   when the cgroup has a swap limit, absent when it has none (then only the host's free swap
 *   bounds it, which is not this container's to claim).
 */
export function swapUsage(stats: CgroupStats, hostSwapTotalBytes: number | undefined): SwapUsage {
  const { swapUsageBytes, swapLimitBytes } = stats.memory;
  const timestamp = stats.timestampNanos.toString();
  if (swapUsageBytes === undefined) return { timestamp, swap_available_bytes: null, swap_usage_bytes: null };
  if (hostSwapTotalBytes === 0) return { timestamp, swap_available_bytes: u64(0), swap_usage_bytes: u64(0) };
  return {
    timestamp,
    swap_available_bytes: u64(swapLimitBytes === undefined ? undefined : Math.max(0, swapLimitBytes - swapUsageBytes)),
    swap_usage_bytes: u64(swapUsageBytes),
  };
}

export function processUsage(stats: CgroupStats): ProcessUsage {
  return { timestamp: stats.timestampNanos.toString(), process_count: u64(stats.pids) };
}
