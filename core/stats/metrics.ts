import type { ContainerMetrics } from '../cri/generated/runtime/v1/ContainerMetrics';
import type { Metric } from '../cri/generated/runtime/v1/Metric';
import type { MetricDescriptor } from '../cri/generated/runtime/v1/MetricDescriptor';
import type { PodSandboxMetrics } from '../cri/generated/runtime/v1/PodSandboxMetrics';
import type { ContainerRecord } from '../containers/container-record';
import type { SandboxRecord } from '../pods/sandbox-record';
import type { CgroupStats } from '../tokens';
import type { ContainerStatsInput } from './container-stats';
import type { PodSandboxStatsInput } from './pod-stats';
import type { InterfaceCounters } from './proc-net-dev';

// ListMetricDescriptors and ListPodSandboxMetrics: cAdvisor-named metrics, which the kubelet
// serves on /metrics/cadvisor when it takes pod and container stats from the CRI. Pure: built
// from what pod-stats and container-stats read.
//
// Labels, as cAdvisor sets them: container (the CRI container name; "" for the pod cgroup),
// id (the cgroup path), image (the image as the client named it; "" for the pod), name (the
// container or sandbox ID), namespace and pod (the pod's metadata); plus interface for network
// metrics, device for filesystem ones (the writable layer's directory) and failure_type/scope
// for memory failures. The CRI wants keys sorted and values in the same order: both come from one
// sorted list of keys per metric.
//
// Values are unsigned integers (CRI UInt64Value): CPU time is in whole seconds. Timestamps are 0:
// the metrics are gathered when asked, which the CRI spells as 0 (kubelet then stamps them).
// Network metrics are the pod's (its namespace), without lo, as cAdvisor leaves it out.
// container_spec_memory_limit_bytes is 0 for no limit (cAdvisor's convention); container_memory_swap
// appears only when swap is known.

type MetricType = 'COUNTER' | 'GAUGE';
type LabelKey = 'container' | 'id' | 'image' | 'name' | 'namespace' | 'pod' | 'interface' | 'device' | 'failure_type' | 'scope';

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly extraLabels?: readonly LabelKey[];
}

const BASE_LABELS: readonly LabelKey[] = ['container', 'id', 'image', 'name', 'namespace', 'pod'];

const FAMILIES = {
  cpu: { name: 'container_cpu_usage_seconds_total', help: 'Cumulative cpu time consumed in seconds.', type: 'COUNTER' },
  memoryUsage: { name: 'container_memory_usage_bytes', help: 'Current memory usage in bytes, including all memory regardless of when it was accessed', type: 'GAUGE' },
  workingSet: { name: 'container_memory_working_set_bytes', help: 'Current working set in bytes.', type: 'GAUGE' },
  rss: { name: 'container_memory_rss', help: 'Size of RSS in bytes.', type: 'GAUGE' },
  swap: { name: 'container_memory_swap', help: 'Container swap usage in bytes.', type: 'GAUGE' },
  memoryFailures: { name: 'container_memory_failures_total', help: 'Cumulative count of memory allocation failures.', type: 'COUNTER', extraLabels: ['failure_type', 'scope'] },
  memoryLimit: { name: 'container_spec_memory_limit_bytes', help: 'Memory limit for the container (0: no limit).', type: 'GAUGE' },
  processes: { name: 'container_processes', help: 'Number of processes running inside the container.', type: 'GAUGE' },
  fsUsage: { name: 'container_fs_usage_bytes', help: 'Number of bytes that are consumed by the container on this filesystem.', type: 'GAUGE', extraLabels: ['device'] },
  rxBytes: { name: 'container_network_receive_bytes_total', help: 'Cumulative count of bytes received', type: 'COUNTER', extraLabels: ['interface'] },
  rxPackets: { name: 'container_network_receive_packets_total', help: 'Cumulative count of packets received', type: 'COUNTER', extraLabels: ['interface'] },
  rxDropped: { name: 'container_network_receive_packets_dropped_total', help: 'Cumulative count of packets dropped while receiving', type: 'COUNTER', extraLabels: ['interface'] },
  rxErrors: { name: 'container_network_receive_errors_total', help: 'Cumulative count of errors encountered while receiving', type: 'COUNTER', extraLabels: ['interface'] },
  txBytes: { name: 'container_network_transmit_bytes_total', help: 'Cumulative count of bytes transmitted', type: 'COUNTER', extraLabels: ['interface'] },
  txPackets: { name: 'container_network_transmit_packets_total', help: 'Cumulative count of packets transmitted', type: 'COUNTER', extraLabels: ['interface'] },
  txDropped: { name: 'container_network_transmit_packets_dropped_total', help: 'Cumulative count of packets dropped while transmitting', type: 'COUNTER', extraLabels: ['interface'] },
  txErrors: { name: 'container_network_transmit_errors_total', help: 'Cumulative count of errors encountered while transmitting', type: 'COUNTER', extraLabels: ['interface'] },
} as const satisfies Record<string, Family>;

function labelKeys(family: Family): LabelKey[] {
  return [...BASE_LABELS, ...(family.extraLabels ?? [])].sort();
}

export function metricDescriptors(): MetricDescriptor[] {
  return Object.values(FAMILIES).map((family: Family) => ({ name: family.name, help: family.help, label_keys: labelKeys(family) }));
}

/** The same families with their type, for the Prometheus endpoint (which serves them too). */
export function metricFamilies(): { name: string; help: string; type: MetricType; labelKeys: string[] }[] {
  return Object.values(FAMILIES).map((family: Family) => ({ name: family.name, help: family.help, type: family.type, labelKeys: labelKeys(family) }));
}

type Labels = Readonly<Partial<Record<LabelKey, string>>>;

function metric(family: Family, labels: Labels, value: number | bigint): Metric {
  return {
    name: family.name,
    timestamp: '0',
    metric_type: family.type,
    label_values: labelKeys(family).map((key) => labels[key] ?? ''),
    value: { value: typeof value === 'bigint' ? value.toString() : String(Math.max(0, Math.floor(value))) },
  };
}

/** CPU, memory and process metrics of one cgroup (a container's or the pod's). */
function cgroupMetrics(stats: CgroupStats, labels: Labels): Metric[] {
  const memory = stats.memory;
  const metrics = [
    metric(FAMILIES.cpu, labels, stats.cpuUsageNanos / 1_000_000_000n),
    metric(FAMILIES.memoryUsage, labels, memory.usageBytes),
    metric(FAMILIES.workingSet, labels, memory.workingSetBytes),
    metric(FAMILIES.rss, labels, memory.rssBytes),
    metric(FAMILIES.memoryFailures, { ...labels, failure_type: 'pgfault', scope: 'container' }, memory.pageFaults),
    metric(FAMILIES.memoryFailures, { ...labels, failure_type: 'pgmajfault', scope: 'container' }, memory.majorPageFaults),
    metric(FAMILIES.memoryLimit, labels, memory.limitBytes ?? 0),
    metric(FAMILIES.processes, labels, stats.pids),
  ];
  if (memory.swapUsageBytes !== undefined) metrics.push(metric(FAMILIES.swap, labels, memory.swapUsageBytes));
  return metrics;
}

function networkMetrics(interfaces: readonly InterfaceCounters[], labels: Labels): Metric[] {
  return interfaces
    .filter((i) => i.name !== 'lo')
    .flatMap((i) => {
      const withInterface = { ...labels, interface: i.name };
      return [
        metric(FAMILIES.rxBytes, withInterface, i.rxBytes),
        metric(FAMILIES.rxPackets, withInterface, i.rxPackets),
        metric(FAMILIES.rxDropped, withInterface, i.rxDropped),
        metric(FAMILIES.rxErrors, withInterface, i.rxErrors),
        metric(FAMILIES.txBytes, withInterface, i.txBytes),
        metric(FAMILIES.txPackets, withInterface, i.txPackets),
        metric(FAMILIES.txDropped, withInterface, i.txDropped),
        metric(FAMILIES.txErrors, withInterface, i.txErrors),
      ];
    });
}

export function containerMetrics(sandbox: SandboxRecord, record: ContainerRecord, input: ContainerStatsInput): ContainerMetrics {
  const labels: Labels = {
    container: record.config.metadata?.name ?? '',
    id: record.cgroupsPath,
    image: record.imageName,
    name: record.id,
    namespace: sandbox.config.metadata?.namespace ?? '',
    pod: sandbox.config.metadata?.name ?? '',
  };
  const metrics = input.cgroup ? cgroupMetrics(input.cgroup.stats, labels) : [];
  if (input.writableLayer) metrics.push(metric(FAMILIES.fsUsage, { ...labels, device: record.paths.upper }, input.writableLayer.usage.usedBytes));
  return { container_id: record.id, metrics };
}

export function podSandboxMetrics(sandbox: SandboxRecord, input: PodSandboxStatsInput): PodSandboxMetrics {
  const labels: Labels = {
    container: '',
    id: sandbox.cgroup.path,
    image: '',
    name: sandbox.id,
    namespace: sandbox.config.metadata?.namespace ?? '',
    pod: sandbox.config.metadata?.name ?? '',
  };
  return {
    pod_sandbox_id: sandbox.id,
    metrics: [...(input.cgroup ? cgroupMetrics(input.cgroup.stats, labels) : []), ...(input.network ? networkMetrics(input.network.interfaces, labels) : [])],
    container_metrics: input.containers.map((c) => containerMetrics(sandbox, c.record, c.input)),
  };
}
