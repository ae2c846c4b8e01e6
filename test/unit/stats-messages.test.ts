import assert from 'node:assert/strict';
import type { ContainerRecord } from '../../core/containers/container-record';
import type { SandboxRecord } from '../../core/pods/sandbox-record';
import { memoryUsage, swapUsage } from '../../core/stats/cgroup-usage';
import { containerStatsMessage } from '../../core/stats/container-stats';
import { parseSwapTotal } from '../../core/stats/host-swap';
import { metricDescriptors, podSandboxMetrics } from '../../core/stats/metrics';
import { parseProcNetDev } from '../../core/stats/proc-net-dev';
import type { CgroupStats } from '../../core/tokens';

const MiB = 1024 * 1024;

function cgroupStats(memory: Partial<CgroupStats['memory']> = {}): CgroupStats {
  return {
    timestampNanos: 1_700_000_000_000_000_000n,
    cpuUsageNanos: 2_500_000_000n,
    memory: {
      usageBytes: 40 * MiB,
      workingSetBytes: 30 * MiB,
      rssBytes: 20 * MiB,
      pageFaults: 1000,
      majorPageFaults: 3,
      limitBytes: 128 * MiB,
      swapUsageBytes: undefined,
      swapLimitBytes: undefined,
      ...memory,
    },
    pids: 2,
  };
}

const record = {
  id: 'c0ffee',
  sandboxId: 'beef',
  config: { metadata: { name: 'app', attempt: 1 }, labels: { a: 'b' }, annotations: { x: 'y' } },
  imageName: 'busybox:latest',
  cgroupsPath: '/caisson/pod-beef/c0ffee',
  state: 'CONTAINER_RUNNING',
  paths: { upper: '/var/lib/caisson/containers/c0ffee/upper' },
} as unknown as ContainerRecord;

const sandbox = {
  id: 'beef',
  config: { metadata: { name: 'web', namespace: 'default', uid: 'u', attempt: 0 }, labels: {}, annotations: {} },
  cgroup: { path: '/caisson/pod-beef', madeByCaisson: true },
} as unknown as SandboxRecord;

describe('stats messages and metrics', () => {
  it('memory: available is limit − working set, absent without a limit', () => {
    assert.equal(memoryUsage(cgroupStats()).available_bytes?.value, String(98 * MiB));
    assert.equal(memoryUsage(cgroupStats({ limitBytes: undefined })).available_bytes, null);
  });

  it('swap: absent when the kernel does not account it, 0 when the host has no swap space, else the cgroup figures', () => {
    const none = swapUsage(cgroupStats(), 8 * MiB);
    assert.deepEqual([none.swap_usage_bytes, none.swap_available_bytes], [null, null]);
    const noSpace = swapUsage(cgroupStats({ swapUsageBytes: 4096, swapLimitBytes: 64 * MiB }), 0);
    assert.deepEqual([noSpace.swap_usage_bytes, noSpace.swap_available_bytes], [{ value: '0' }, { value: '0' }]);
    const limited = swapUsage(cgroupStats({ swapUsageBytes: MiB, swapLimitBytes: 64 * MiB }), 1024 * MiB);
    assert.deepEqual([limited.swap_usage_bytes, limited.swap_available_bytes], [{ value: String(MiB) }, { value: String(63 * MiB) }]);
    const unlimited = swapUsage(cgroupStats({ swapUsageBytes: MiB }), 1024 * MiB);
    assert.deepEqual([unlimited.swap_usage_bytes, unlimited.swap_available_bytes], [{ value: String(MiB) }, null]);
    assert.equal(parseSwapTotal('MemTotal:       16000000 kB\nSwapTotal:             0 kB\n'), 0);
    assert.equal(parseSwapTotal('SwapTotal:        2048 kB\n'), 2 * MiB);
  });

  it('a container without a cgroup has its attributes and writable layer only', () => {
    const message = containerStatsMessage(record, { writableLayer: { usage: { usedBytes: 8192, inodesUsed: 3 }, timestampNanos: 7n } });
    assert.deepEqual(message, {
      attributes: { id: 'c0ffee', metadata: { name: 'app', attempt: 1 }, labels: { a: 'b' }, annotations: { x: 'y' } },
      cpu: null,
      memory: null,
      swap: null,
      writable_layer: { timestamp: '7', fs_id: { mountpoint: record.paths.upper }, used_bytes: { value: '8192' }, inodes_used: { value: '3' } },
    });
  });

  it('describes every metric once, with sorted label keys', () => {
    const descriptors = metricDescriptors();
    assert.equal(new Set(descriptors.map((d) => d.name)).size, descriptors.length);
    for (const d of descriptors) assert.deepEqual(d.label_keys, [...(d.label_keys ?? [])].sort(), d.name);
    assert.deepEqual(descriptors.find((d) => d.name === 'container_network_receive_bytes_total')?.label_keys, ['container', 'id', 'image', 'interface', 'name', 'namespace', 'pod']);
  });

  it('builds pod and container metrics whose values line up with the descriptor keys', () => {
    const interfaces = parseProcNetDev('lo: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\neth0: 500 5 1 2 0 0 0 0 600 6 3 4 0 0 0 0');
    const metrics = podSandboxMetrics(sandbox, {
      cgroup: { stats: cgroupStats(), usageNanoCores: undefined },
      network: { interfaces, timestampNanos: 1n },
      containers: [{ record, input: { cgroup: { stats: cgroupStats(), usageNanoCores: undefined }, writableLayer: { usage: { usedBytes: 4096, inodesUsed: 1 }, timestampNanos: 1n } } }],
    });
    const keys = new Map(metricDescriptors().map((d) => [d.name, d.label_keys ?? []]));
    const all = [...(metrics.metrics ?? []), ...(metrics.container_metrics ?? []).flatMap((c) => c.metrics ?? [])];
    for (const m of all) assert.equal(m.label_values?.length, keys.get(m.name ?? '')?.length, m.name);
    const rx = (metrics.metrics ?? []).filter((m) => m.name === 'container_network_receive_bytes_total');
    assert.deepEqual(rx.map((m) => [m.label_values, m.value, m.metric_type, m.timestamp]), [
      [['', '/caisson/pod-beef', '', 'eth0', 'beef', 'default', 'web'], { value: '500' }, 'COUNTER', '0'],
    ]);
    const container = metrics.container_metrics?.[0];
    assert.equal(container?.container_id, 'c0ffee');
    const ws = container?.metrics?.find((m) => m.name === 'container_memory_working_set_bytes');
    assert.deepEqual([ws?.label_values, ws?.value, ws?.metric_type], [['app', '/caisson/pod-beef/c0ffee', 'busybox:latest', 'c0ffee', 'default', 'web'], { value: String(30 * MiB) }, 'GAUGE']);
    assert.equal(container?.metrics?.find((m) => m.name === 'container_cpu_usage_seconds_total')?.value?.value, '2', 'whole seconds');
    assert.equal(container?.metrics?.some((m) => m.name === 'container_memory_swap'), false, 'swap unknown: no metric');
  });
});
