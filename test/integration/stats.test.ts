import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import type { CriClient } from '../../cli/cri-client';
import { packageInfo } from '../../core/package-info';
import { parseSwapTotal } from '../../core/stats/host-swap';
import { containerConfig, podConfig, runPod, startContainer, waitForExit } from '../support/pod-fixtures';
import type { TestRegistry } from '../support/registry/test-registry';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';
import { useTestDaemons, type TestDaemon } from '../support/test-daemon';
import { startBusyboxRegistry } from '../support/busybox-registry';

// The CRI stats and metrics RPCs (service.stats) on real containers: runc and conmon, the
// cgroupfs driver, busybox from a local docker-registry, and the pods' own network namespaces.
// The CLI part runs bin/caisson from dist/ (`npm run build` first).

const execFileAsync = promisify(execFile);
const CLI = path.join(packageInfo().root, 'bin', 'caisson');
const MiB = 1024 * 1024;
const LIMIT = 128 * MiB;

/** A UInt64Value as a number (undefined when absent). */
const n = (value: { value?: unknown } | null | undefined): number | undefined => (value ? Number(String(value.value)) : undefined);

describe('CRI stats and metrics', function () {
  this.timeout(120_000);
  const daemons = useTestDaemons();
  let registry: TestRegistry;
  let image: string;
  let logs: string;
  const children = new Set<ChildProcess>();

  before(async () => ({ registry, image } = await startBusyboxRegistry()));
  after(async () => registry?.stop());
  beforeEach(() => (logs = makeTempRoot('statslogs')));
  afterEach(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    children.clear();
    removeTempRoot(logs);
  });

  const start = async (): Promise<{ d: TestDaemon; client: CriClient }> => {
    const d = await daemons.start({ config: { 'insecure-registries': [registry.host] }, });
    const client = d.client();
    await client.call('PullImage', { image: { image } });
    return { d, client };
  };

  const sleeper = (name: string, overrides: Record<string, unknown> = {}) => containerConfig(name, image, ['sleep', '300'], overrides);

  it('ContainerStats follows a container as it uses CPU, allocates memory and writes its layer', async () => {
    const { client } = await start();
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    // head | tail burns CPU without holding memory (tail -c 1 keeps one byte); dd's 5 MiB land in
    // the page cache (usage, not working set: new file pages are inactive); then awk holds a 20 MB
    // string (anonymous memory: working set and rss) while it waits.
    const script =
      'sleep 1; head -c 50000000 /dev/zero | tail -c 1 > /dev/null; dd if=/dev/zero of=/tmp/f bs=1M count=5; ' +
      `exec awk 'BEGIN { s = sprintf("%20000000s", ""); print "done"; fflush(); system("sleep 300") }'`;
    const id = await startContainer(client, podId, pod, containerConfig('worker', image, ['sh', '-c', script], { linux: { resources: { memory_limit_in_bytes: String(LIMIT) } } }));

    const before = (await client.call('ContainerStats', { container_id: id })).stats;
    assert.deepEqual(before?.attributes, { id, metadata: { name: 'worker', attempt: 0 }, labels: { container: 'worker' }, annotations: {} });
    assert.ok(before?.cpu && before.memory, 'a running container has cpu and memory');
    assert.equal(before.cpu.usage_nano_cores, null, 'no rate on the first sample');
    assert.ok(BigInt(String(before.cpu.timestamp)) > 0n);

    await waitForLog(path.join(logs, 'worker.log'), 'done');
    const after = (await client.call('ContainerStats', { container_id: id })).stats;
    assert.ok(after?.cpu && after.memory && after.writable_layer && after.swap);
    const cpuBefore = n(before.cpu.usage_core_nano_seconds) ?? 0;
    const cpuAfter = n(after.cpu.usage_core_nano_seconds) ?? 0;
    assert.ok(cpuAfter > 0 && cpuAfter > cpuBefore, `usage_core_nano_seconds ${cpuBefore} → ${cpuAfter}`);
    assert.ok((n(after.cpu.usage_nano_cores) ?? 0) > 0, `usage_nano_cores ${JSON.stringify(after.cpu.usage_nano_cores)} on the second sample`);

    // The page cache and the shell's 20 MB are charged to the container's cgroup.
    const usageBefore = n(before.memory.usage_bytes) ?? 0;
    const usageAfter = n(after.memory.usage_bytes) ?? 0;
    assert.ok(usageAfter >= usageBefore + 20 * MiB, `usage_bytes ${usageBefore} → ${usageAfter}`);
    const workingSetBefore = n(before.memory.working_set_bytes) ?? 0;
    const workingSet = n(after.memory.working_set_bytes) ?? 0;
    assert.ok(workingSet >= workingSetBefore + 16 * MiB && workingSet <= usageAfter, `working_set_bytes ${workingSetBefore} → ${workingSet}`);
    assert.ok((n(after.memory.rss_bytes) ?? 0) >= 16 * MiB, `rss_bytes ${JSON.stringify(after.memory.rss_bytes)}`);
    assert.equal(n(after.memory.available_bytes), LIMIT - workingSet);
    assert.ok((n(after.memory.page_faults) ?? 0) > (n(before.memory.page_faults) ?? 0));

    assert.equal(after.writable_layer.fs_id?.mountpoint?.endsWith('/upper'), true);
    assert.ok((n(after.writable_layer.used_bytes) ?? 0) >= 5 * MiB, `writable layer ${JSON.stringify(after.writable_layer.used_bytes)}`);
    assert.ok((n(after.writable_layer.inodes_used) ?? 0) >= 2, 'the upper directory, /tmp and /tmp/f');

    // Swap: on a host without swap space both are 0 when the kernel accounts swap, absent when not.
    const hostSwap = parseSwapTotal(fs.readFileSync('/proc/meminfo', 'utf8'));
    const swap = [after.swap.swap_usage_bytes, after.swap.swap_available_bytes];
    if (hostSwap === 0) assert.ok(swap.every((v) => v === null) || swap.every((v) => n(v) === 0), JSON.stringify(swap));
    assert.equal(after.swap.timestamp, after.memory.timestamp);
  });

  it('PodSandboxStats: the pod cgroup, its processes, lo counters and running containers; List* filters', async () => {
    const { client } = await start();
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const sleepId = await startContainer(client, podId, pod, sleeper('sleeper'));
    const other = podConfig(logs, { labels: { app: 'other' } });
    const otherId = await runPod(client, other);
    const otherContainer = await startContainer(client, otherId, other, sleeper('elsewhere'));

    const first = (await client.call('PodSandboxStats', { pod_sandbox_id: podId })).stats;
    assert.equal(first?.attributes?.id, podId);
    assert.deepEqual(first?.attributes?.labels, { app: 'test' });
    const linux = first?.linux;
    assert.ok(linux?.cpu && linux.memory && linux.process && linux.network, JSON.stringify(linux));
    assert.ok((n(linux.process.process_count) ?? 0) >= 1, `process_count ${JSON.stringify(linux.process.process_count)}`);
    assert.ok((n(linux.memory.working_set_bytes) ?? 0) > 0);
    assert.deepEqual(linux.network.interfaces?.map((i) => i.name), ['lo'], 'the pod has only lo');
    assert.equal(linux.network.default_interface, null, 'lo is never the default interface');
    assert.deepEqual(linux.containers?.map((c) => c.attributes?.id), [sleepId]);

    const lo = (stats: { linux?: { network?: { interfaces?: { name?: string; rx_bytes?: { value?: unknown } | null; tx_bytes?: { value?: unknown } | null }[] } | null } | null } | null | undefined) => stats?.linux?.network?.interfaces?.find((i) => i.name === 'lo');
    const loBefore = lo(first);
    const pinger = await startContainer(client, podId, pod, containerConfig('pinger', image, ['ping', '-c', '3', '127.0.0.1']));
    const pinged = await waitForExit(client, pinger, 30_000);
    assert.equal(pinged.exit_code, 0, `ping failed: ${fs.readFileSync(path.join(logs, 'pinger.log'), 'utf8')}`);
    const second = (await client.call('PodSandboxStats', { pod_sandbox_id: podId.slice(0, 12) })).stats;
    const loAfter = lo(second);
    // Three echo requests and three replies of 84 bytes each cross lo both ways.
    assert.ok((n(loAfter?.rx_bytes) ?? 0) >= (n(loBefore?.rx_bytes) ?? 0) + 3 * 84, `lo rx ${JSON.stringify(loBefore?.rx_bytes)} → ${JSON.stringify(loAfter?.rx_bytes)}`);
    assert.ok((n(loAfter?.tx_bytes) ?? 0) >= (n(loBefore?.tx_bytes) ?? 0) + 3 * 84, `lo tx ${JSON.stringify(loBefore?.tx_bytes)} → ${JSON.stringify(loAfter?.tx_bytes)}`);
    assert.deepEqual(second?.linux?.containers?.map((c) => c.attributes?.id), [sleepId], 'only running containers');

    const podIds = async (filter: object) => ((await client.call('ListPodSandboxStats', { filter })).stats ?? []).map((s) => s.attributes?.id).sort();
    assert.deepEqual(await podIds({}), [podId, otherId].sort());
    assert.deepEqual(await podIds({ id: podId.slice(0, 10) }), [podId]);
    assert.deepEqual(await podIds({ label_selector: { app: 'other' } }), [otherId]);
    assert.deepEqual(await podIds({ label_selector: { app: 'none' } }), []);

    const containerIds = async (filter: object) => ((await client.call('ListContainerStats', { filter })).stats ?? []).map((s) => s.attributes?.id).sort();
    assert.deepEqual(await containerIds({}), [sleepId, pinger, otherContainer].sort());
    assert.deepEqual(await containerIds({ pod_sandbox_id: podId }), [sleepId, pinger].sort());
    assert.deepEqual(await containerIds({ pod_sandbox_id: otherId.slice(0, 12) }), [otherContainer]);
    assert.deepEqual(await containerIds({ id: sleepId.slice(0, 10) }), [sleepId]);
    assert.deepEqual(await containerIds({ pod_sandbox_id: podId, label_selector: { container: 'sleeper' } }), [sleepId]);
    assert.deepEqual(await containerIds({ pod_sandbox_id: 'no-such-pod' }), []);

    // An exited container: attributes and writable layer, no cpu, memory or swap.
    const [exited] = (await client.call('ListContainerStats', { filter: { id: pinger } })).stats ?? [];
    assert.equal(exited?.attributes?.metadata?.name, 'pinger');
    assert.deepEqual([exited?.cpu, exited?.memory, exited?.swap], [null, null, null]);
    assert.ok(exited?.writable_layer?.used_bytes);

    await assert.rejects(client.call('ContainerStats', { container_id: 'no-such-container' }), { code: grpc.status.NOT_FOUND, details: 'container no-such-container not found' });
    await assert.rejects(client.call('PodSandboxStats', { pod_sandbox_id: 'no-such-pod' }), { code: grpc.status.NOT_FOUND, details: 'sandbox no-such-pod not found' });
  });

  it('ListMetricDescriptors and ListPodSandboxMetrics: cAdvisor metrics of the pod and its containers', async () => {
    const { client } = await start();
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const id = await startContainer(client, podId, pod, sleeper('metered', { linux: { resources: { memory_limit_in_bytes: String(LIMIT) } } }));

    const { descriptors = [] } = await client.call('ListMetricDescriptors', {});
    assert.ok(descriptors.length > 0);
    const keys = new Map(descriptors.map((d) => [String(d.name), d.label_keys ?? []]));
    for (const name of ['container_cpu_usage_seconds_total', 'container_memory_working_set_bytes', 'container_spec_memory_limit_bytes', 'container_network_receive_bytes_total', 'container_fs_usage_bytes', 'container_processes']) {
      assert.ok(keys.has(name), `${name} is described`);
    }

    const { pod_metrics = [] } = await client.call('ListPodSandboxMetrics', {});
    const podMetrics = pod_metrics.find((p) => p.pod_sandbox_id === podId);
    assert.ok(podMetrics, 'the pod has metrics');
    const container = podMetrics.container_metrics?.find((c) => c.container_id === id);
    const metric = (name: string) => container?.metrics?.find((m) => m.name === name);
    const workingSet = metric('container_memory_working_set_bytes');
    assert.ok(workingSet && (n(workingSet.value) ?? 0) > 0, JSON.stringify(workingSet));
    assert.equal(workingSet.metric_type, 'GAUGE');
    const labels = Object.fromEntries((keys.get('container_memory_working_set_bytes') ?? []).map((key, i) => [key, workingSet.label_values?.[i]]));
    assert.deepEqual([labels['container'], labels['name'], labels['image'], labels['pod'], labels['namespace']], ['metered', id, image, (pod['metadata'] as { name: string }).name, 'caisson-test']);
    assert.equal(n(metric('container_spec_memory_limit_bytes')?.value), LIMIT);
    assert.equal(metric('container_cpu_usage_seconds_total')?.metric_type, 'COUNTER');
    for (const m of [...(podMetrics.metrics ?? []), ...(container?.metrics ?? [])]) {
      assert.equal(m.label_values?.length, keys.get(String(m.name))?.length, `${m.name} has a value per label key`);
    }
    assert.ok((n(podMetrics.metrics?.find((m) => m.name === 'container_processes')?.value) ?? 0) >= 1, 'pod-level processes');
  });

  it('caisson stats prints a row per running container, JSON with -o json, and redraws with --watch until Ctrl-C', async () => {
    const { d, client } = await start();
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const id = await startContainer(client, podId, pod, sleeper('shown'));
    const exited = await startContainer(client, podId, pod, containerConfig('gone', image, ['true']));
    await waitForExit(client, exited);
    const host = ['--host', `unix://${d.socket}`];

    const { stdout } = await execFileAsync(process.execPath, [CLI, ...host, 'stats']);
    const [header, ...rows] = stdout.trimEnd().split('\n');
    assert.match(header ?? '', /^CONTAINER\s+NAME\s+CPU %\s+MEM\s+DISK\s+INODES$/);
    assert.equal(rows.length, 1, stdout);
    assert.match(rows[0] ?? '', new RegExp(`^${id.slice(0, 13)}\\s+shown\\s+\\d+\\.\\d\\d\\s+[\\d.]+[kMG]?B\\s+[\\d.]+[kMG]?B\\s+\\d+$`));

    const all = await execFileAsync(process.execPath, [CLI, ...host, 'stats', '-a', '--pod', podId.slice(0, 8)]);
    assert.equal(all.stdout.trimEnd().split('\n').length, 3, all.stdout);
    assert.match(all.stdout, new RegExp(`^${exited.slice(0, 13)}\\s+gone\\s+-\\s+-\\s+`, 'm'));

    const json = JSON.parse((await execFileAsync(process.execPath, [CLI, ...host, '-o', 'json', 'stats', id.slice(0, 10)])).stdout) as { stats: { attributes: { id: string } }[] };
    assert.deepEqual(json.stats.map((s) => s.attributes.id), [id]);

    const child = spawn(process.execPath, [CLI, ...host, 'stats', '--watch'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const deadline = Date.now() + 15_000;
    while ((output.match(/^CONTAINER/gm) ?? []).length < 2) {
      if (Date.now() > deadline) throw new Error(`caisson stats --watch did not redraw: ${output}`);
      await delay(100);
    }
    child.kill('SIGINT');
    assert.equal(await closed, 0, output);
  });
});

async function waitForLog(file: string, text: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (fs.existsSync(file) && fs.readFileSync(file, 'utf8').includes(text)) return;
    await delay(50);
  }
  throw new Error(`"${text}" did not appear in ${file} within ${timeoutMs} ms`);
}
