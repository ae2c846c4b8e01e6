import { directoryUsage, type FsUsage } from '../images/fs-usage';
import { runProgram } from '../exec/run-program';
import type { CgroupDriver } from '../tokens';
import { CpuRateTracker } from './cpu-rate';
import { hostSwapTotalBytes } from './host-swap';

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
  /** /proc/net/dev as seen inside a network namespace (its bind-mounted file). */
  readonly procNetDev: (netnsFile: string) => Promise<string>;
}

const NSENTER_TIMEOUT_MS = 5_000;

export function defaultStatsSources(driver: Pick<CgroupDriver, 'readStats'>): StatsSources {
  return {
    driver,
    cpuRates: new CpuRateTracker(),
    diskUsage: directoryUsage,
    hostSwapTotal: () => hostSwapTotalBytes(),
    // /proc/net is /proc/self/net: it shows the namespace of the process that reads it.
    procNetDev: async (netnsFile) => (await runProgram('nsenter', [`--net=${netnsFile}`, 'cat', '/proc/net/dev'], { timeoutMs: NSENTER_TIMEOUT_MS })).stdout,
  };
}
