import type { LinuxContainerResources__Output } from '../cri/generated/runtime/v1/LinuxContainerResources';
import type { OciResources } from './oci-spec';

// CRI LinuxContainerResources → OCI linux.resources (and process.oomScoreAdj), pure. Used when
// a container is created (through the spec builder) and by UpdateContainerResources. Zero means
// "not set".

export function ociResources(
  r: LinuxContainerResources__Output | null,
  cgroupVersion: 'v1' | 'hybrid' | 'v2',
  fail: (cause: string) => Error,
): OciResources {
  const resources: OciResources = { devices: [], memory: {}, cpu: {}, hugepageLimits: [] };
  if (!r) return resources;
  const int64 = (field: string, value: string, min: number): number => criInt64(field, value, min, fail);

  const shares = int64('cpu_shares', r.cpu_shares, 0);
  const quota = int64('cpu_quota', r.cpu_quota, -1);
  const period = int64('cpu_period', r.cpu_period, 0);
  const limit = int64('memory_limit_in_bytes', r.memory_limit_in_bytes, 0);
  const swap = int64('memory_swap_limit_in_bytes', r.memory_swap_limit_in_bytes, -1);
  if (shares !== 0) resources.cpu.shares = shares;
  if (quota !== 0) resources.cpu.quota = quota;
  if (period !== 0) resources.cpu.period = period;
  if (r.cpuset_cpus !== '') resources.cpu.cpus = r.cpuset_cpus;
  if (r.cpuset_mems !== '') resources.cpu.mems = r.cpuset_mems;
  if (limit !== 0) resources.memory.limit = limit;
  if (swap !== 0) resources.memory.swap = swap;

  for (const h of r.hugepage_limits) {
    if (!/^\d+[KMGTP]?B$/.test(h.page_size)) {
      throw fail(`hugepage limit page_size "${h.page_size}" is not <size><unit>B (e.g. 2MB, 1GB)`);
    }
    resources.hugepageLimits.push({ pageSize: h.page_size, limit: int64('hugepage limit', h.limit, 0) });
  }

  const unifiedKeys = Object.keys(r.unified ?? {});
  if (unifiedKeys.length > 0) {
    if (cgroupVersion !== 'v2') {
      throw fail(`unified cgroup resources (${unifiedKeys.sort().join(', ')}) need cgroup v2, but the host uses cgroup ${cgroupVersion}`);
    }
    resources.unified = { ...r.unified };
  }
  return resources;
}

/**
 * process.oomScoreAdj: the CRI oom_score_adj (0 when no resources are given), raised to the
 * daemon's own score (going lower needs CAP_SYS_RESOURCE) and capped at the kernel's 1000. Always
 * set, so the container never inherits the daemon's (lower) score.
 */
export function ociOomScoreAdj(
  r: LinuxContainerResources__Output | null,
  daemonOomScoreAdj: number,
  fail: (cause: string) => Error,
): number {
  const requested = r ? criInt64('oom_score_adj', r.oom_score_adj, -Infinity, fail) : 0;
  return Math.min(1000, Math.max(requested, daemonOomScoreAdj));
}

/** An int64 field sent as a decimal string ("" is 0), checked against a minimum. */
export function criInt64(field: string, value: string, min: number, fail: (cause: string) => Error): number {
  const text = value === '' ? '0' : value;
  const n = /^-?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) throw fail(`${field} "${value}" is not an integer`);
  if (n < min) throw fail(`${field} ${n} is out of range (at least ${min})`);
  return n;
}
