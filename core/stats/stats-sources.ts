import { directoryUsage, type FsUsage } from '../images/fs-usage';
import type { CgroupDriver } from '../tokens';
import { CpuRateTracker } from './cpu-rate';
import { hostSwapTotalBytes } from './host-swap';
import { readProcNetDev } from './read-pod-net-dev';

// Where container and pod stats come from: the cgroup driver, the writable layer on disk, the
// pod's network namespace, the host's swap. One object per daemon (the CPU rate baselines live
// in it); tests can swap any source.

export interface StatsSources {
  readonly driver: Pick<CgroupDriver, 'readStats'>;
  readonly cpuRates: CpuRateTracker;
  /** Bytes and inodes below a directory (the writable layer). */
  readonly diskUsage: (dir: string) => Promise<FsUsage>;
  /** The host's swap space in bytes (undefined when unknown). */
  readonly hostSwapTotal: () => Promise<number | undefined>;
  /**
   * /proc/net/dev as seen inside a network namespace (its bind-mounted file), read through one
   * of `podPids` when one is in that namespace.
   */
  readonly procNetDev: (netnsFile: string, podPids: readonly number[]) => Promise<string>;
}

export function defaultStatsSources(driver: Pick<CgroupDriver, 'readStats'>): StatsSources {
  return {
    driver,
    cpuRates: new CpuRateTracker(),
    diskUsage: directoryUsage,
    hostSwapTotal: () => hostSwapTotalBytes(),
    procNetDev: readProcNetDev,
  };
}
