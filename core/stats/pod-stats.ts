import * as fs from 'node:fs';
import type { NetworkInterfaceUsage } from '../cri/generated/runtime/v1/NetworkInterfaceUsage';
import type { NetworkUsage } from '../cri/generated/runtime/v1/NetworkUsage';
import type { PodSandboxAttributes } from '../cri/generated/runtime/v1/PodSandboxAttributes';
import type { PodSandboxStats } from '../cri/generated/runtime/v1/PodSandboxStats';
import type { ContainerRecord } from '../containers/container-record';
import type { SandboxRecord } from '../pods/sandbox-record';
import type { CgroupStats } from '../tokens';
import { cpuUsage, memoryUsage, processUsage, u64 } from './cgroup-usage';
import { containerStatsMessage, readContainerStatsInput, type ContainerStatsInput } from './container-stats';
import { defaultInterface, parseProcNetDev, type InterfaceCounters } from './proc-net-dev';
import type { StatsSources } from './stats-sources';
import { nowNanos } from '../clock/unix-nanos';

// CRI PodSandboxStats (Linux): CPU, memory and process count of the pod cgroup (it holds every
// container of the pod, so its counters include theirs); network counters read inside the pod's
// network namespace; and the stats of each running container.
//
// Network: `interfaces` lists every interface of the namespace, lo included; `default_interface`
// is eth0, or the first one that is not lo, and absent when the pod has only lo. A host-network
// pod reports no network (as containerd does: the host's counters are not the pod's), nor does a
// pod whose namespace is no longer pinned (stopped).

export interface PodSandboxStatsInput {
  readonly cgroup?: { readonly stats: CgroupStats; readonly usageNanoCores: number | undefined };
  readonly network?: { readonly interfaces: readonly InterfaceCounters[]; readonly timestampNanos: bigint };
  /** The pod's running containers and what was read of each. */
  readonly containers: readonly { readonly record: ContainerRecord; readonly input: ContainerStatsInput }[];
}

export function podSandboxAttributes(sandbox: SandboxRecord): PodSandboxAttributes {
  return {
    id: sandbox.id,
    metadata: sandbox.config.metadata,
    labels: sandbox.config.labels,
    annotations: sandbox.config.annotations,
  };
}

/** The message, pure. */
export function podSandboxStatsMessage(sandbox: SandboxRecord, input: PodSandboxStatsInput): PodSandboxStats {
  const stats = input.cgroup?.stats;
  return {
    attributes: podSandboxAttributes(sandbox),
    linux: {
      cpu: stats ? cpuUsage(stats, input.cgroup?.usageNanoCores) : null,
      memory: stats ? memoryUsage(stats) : null,
      process: stats ? processUsage(stats) : null,
      network: input.network ? networkUsage(input.network.interfaces, input.network.timestampNanos) : null,
      containers: input.containers.map((c) => containerStatsMessage(c.record, c.input)),
    },
    windows: null,
  };
}

export function networkUsage(interfaces: readonly InterfaceCounters[], timestampNanos: bigint): NetworkUsage {
  const chosen = defaultInterface(interfaces);
  return {
    timestamp: timestampNanos.toString(),
    default_interface: chosen ? interfaceUsage(chosen) : null,
    interfaces: interfaces.map(interfaceUsage),
  };
}

function interfaceUsage(counters: InterfaceCounters): NetworkInterfaceUsage {
  return {
    name: counters.name,
    rx_bytes: u64(counters.rxBytes),
    rx_errors: u64(counters.rxErrors),
    tx_bytes: u64(counters.txBytes),
    tx_errors: u64(counters.txErrors),
  };
}

/** Reads the pod's cgroup, network and running containers, and builds the message. */
export async function readPodSandboxStats(sandbox: SandboxRecord, containers: readonly ContainerRecord[], sources: StatsSources): Promise<PodSandboxStats> {
  return podSandboxStatsMessage(sandbox, await readPodSandboxStatsInput(sandbox, containers, sources));
}

/**
 * Reads what PodSandboxStats (and the pod's metrics) are made of. `containers` may be every
 * container: those of this pod that are running are read. `trackCpuRate` as for containers.
 */
export async function readPodSandboxStatsInput(
  sandbox: SandboxRecord,
  containers: readonly ContainerRecord[],
  sources: StatsSources,
  trackCpuRate = true,
): Promise<PodSandboxStatsInput> {
  const running = containers.filter((c) => c.sandboxId === sandbox.id && c.state === 'CONTAINER_RUNNING');
  const [cgroup, network, containerInputs] = await Promise.all([
    readPodCgroup(sandbox, sources, trackCpuRate),
    readPodNetwork(sandbox, sources, running.map((record) => record.pid)),
    Promise.all(running.map(async (record) => ({ record, input: await readContainerStatsInput(record, sources, trackCpuRate) }))),
  ]);
  return { cgroup, network, containers: containerInputs };
}

async function readPodCgroup(sandbox: SandboxRecord, sources: StatsSources, trackCpuRate: boolean): Promise<PodSandboxStatsInput['cgroup']> {
  const stats = await sources.driver.readStats(sandbox.cgroup.path);
  if (stats === undefined) return undefined;
  const sample = { cpuNanos: stats.cpuUsageNanos, timestampNanos: stats.timestampNanos };
  return { stats, usageNanoCores: trackCpuRate ? sources.cpuRates.sample(sandbox.id, sample) : undefined };
}

/** The counters of the pod's network namespace; undefined for host network or a stopped pod. */
export async function readPodNetwork(sandbox: SandboxRecord, sources: StatsSources, podPids: readonly number[] = []): Promise<PodSandboxStatsInput['network']> {
  const netns = sandbox.namespaces.network;
  if (netns === 'host' || sandbox.state !== 'SANDBOX_READY' || !fs.existsSync(netns)) return undefined;
  const timestampNanos = nowNanos();
  try {
    return { interfaces: parseProcNetDev(await sources.procNetDev(netns, podPids)), timestampNanos };
  } catch (error) {
    if (!fs.existsSync(netns)) return undefined; // stopped while we read
    throw error;
  }
}
