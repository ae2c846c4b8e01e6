import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { detectCgroupMode } from '../../core/cgroup/cgroup-mode';
import { startBusyboxRegistry } from '../support/busybox-registry';
import { containerConfig, podConfig, runPod, startContainer } from '../support/pod-fixtures';
import type { TestRegistry } from '../support/registry/test-registry';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';
import { useTestDaemons } from '../support/test-daemon';
import { ROUNDS, Rounds, daemonWithBusybox, offsetOf, outcomeOf, race, show, type Outcome } from '../support/concurrent-rounds';

// Two RPCs on the same object at once, many times over: the outcome must always be one that
// running them one after the other could give (issue 15, per-object serialisation). Each round
// starts the second RPC a little later than the first, by a different offset each time, so the
// rounds land in different steps of the first. Every round is checked and the test fails at the
// end with what each bad round saw, so a failure reads as a table of outcomes.
// The RemovePodSandbox and RemoveImage races are in concurrency-removal.test.ts.

describe('concurrent RPCs on one object end as some serial order would', function () {
  this.timeout(120_000);
  const daemons = useTestDaemons();
  let registry: TestRegistry;
  let image: string;
  let logs: string;

  before(async () => ({ registry, image } = await startBusyboxRegistry()));
  after(async () => registry?.stop());
  beforeEach(() => (logs = makeTempRoot('concurrency')));
  afterEach(() => removeTempRoot(logs));

  it('two RunPodSandbox with the same metadata: one OK, the other ALREADY_EXISTS, one sandbox listed', async () => {
    const { client } = await daemonWithBusybox(daemons, registry, image);
    const rounds = new Rounds('RunPodSandbox x2, same name and attempt');
    for (let round = 0; round < ROUNDS; round++) {
      const config = podConfig(logs);
      const name = (config['metadata'] as { name: string }).name;
      const run = () => runPod(client, config);
      const [a, b] = await race(run, run, offsetOf(round));
      const listed = ((await client.call('ListPodSandbox', {})).items ?? []).filter((s) => s.metadata?.name === name);
      const codes = [a.code, b.code].sort();
      const problems: string[] = [];
      if (codes.join() !== 'ALREADY_EXISTS,OK') problems.push(`answers were ${codes.join(' and ')}, not OK and ALREADY_EXISTS`);
      if (listed.length !== 1) problems.push(`${listed.length} sandboxes named ${name} listed`);
      rounds.record(round, `${codes.join(' + ')}, ${listed.length} listed`, problems, `${show(a)} | ${show(b)}; listed ${listed.map((s) => String(s.id).slice(0, 12)).join(', ')}`);
      for (const sandbox of listed) await client.call('RemovePodSandbox', { pod_sandbox_id: sandbox.id });
    }
    rounds.check();
  });

  it('two StartContainer on one created container: one OK, the other FAILED_PRECONDITION, and it runs', async () => {
    const { client } = await daemonWithBusybox(daemons, registry, image);
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const rounds = new Rounds('StartContainer x2 on one container');
    for (let round = 0; round < ROUNDS; round++) {
      const config = containerConfig(`started-${round}`, image, ['sleep', '300']);
      const { container_id: id } = await client.call('CreateContainer', { pod_sandbox_id: podId, config, sandbox_config: pod });
      const start = () => client.call('StartContainer', { container_id: id });
      const [a, b] = await race(start, start, offsetOf(round));
      const { status } = await client.call('ContainerStatus', { container_id: id });
      const codes = [a.code, b.code].sort();
      const problems: string[] = [];
      if (codes.join() !== 'FAILED_PRECONDITION,OK') problems.push(`answers were ${codes.join(' and ')}, not OK and FAILED_PRECONDITION`);
      if (status?.state !== 'CONTAINER_RUNNING') problems.push(`the container is ${status?.state} (reason ${status?.reason}: ${status?.message}), not RUNNING`);
      rounds.record(round, `${codes.join(' + ')}, ${status?.state} ${status?.reason ?? ''}`.trim(), problems, `${show(a)} | ${show(b)}`);
      await client.call('RemoveContainer', { container_id: id });
    }
    rounds.check();
  });

  it('two UpdateContainerResources on one container: the cgroup and the status hold one of the two, no file left', async () => {
    const { d, client } = await daemonWithBusybox(daemons, registry, image);
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const id = await startContainer(client, podId, pod, containerConfig('updated', image, ['sleep', '300'], { linux: { resources: { memory_limit_in_bytes: String(32 * MiB) } } }));
    const limitFile = memoryLimitFile(JSON.parse((await client.call('ContainerStatus', { container_id: id, verbose: true })).info?.['info'] ?? '{}').cgroupsPath as string);
    const containerDir = path.join(d.root, 'run', 'containers', id);
    const rounds = new Rounds('UpdateContainerResources x2 on one container');
    for (let round = 0; round < ROUNDS; round++) {
      const limits = [String((64 + round) * MiB), String((128 + round) * MiB)] as const;
      const update = (limit: string) => () => client.call('UpdateContainerResources', { container_id: id, linux: { memory_limit_in_bytes: limit } });
      const [a, b] = await race(update(limits[0]), update(limits[1]), offsetOf(round));
      const onDisk = fs.readFileSync(limitFile, 'utf8').trim();
      const inStatus = (await client.call('ContainerStatus', { container_id: id })).status?.resources?.linux?.memory_limit_in_bytes?.toString();
      const applied = [a.code === 'OK' ? limits[0] : undefined, b.code === 'OK' ? limits[1] : undefined].filter((l) => l !== undefined);
      const leftover = fs.readdirSync(containerDir).filter((f) => /resources/.test(f));
      const problems: string[] = [];
      for (const [o, limit] of [[a, limits[0]], [b, limits[1]]] as const) {
        if (o.code !== 'OK' && (o.details === '' || o.code === 'UNKNOWN' || o.code === 'INTERNAL')) problems.push(`the update to ${mib(limit)} failed without a clear refusal: ${show(o)}`);
      }
      if (applied.length === 0) problems.push('both updates failed');
      if (!applied.includes(onDisk)) problems.push(`the cgroup limit is ${mib(onDisk)}, not one of the applied ${applied.map(mib).join(', ')}`);
      if (inStatus !== onDisk) problems.push(`ContainerStatus says ${mib(inStatus)} but the cgroup holds ${mib(onDisk)}`);
      if (leftover.length > 0) problems.push(`left in the container's directory: ${leftover.join(', ')}`);
      const summary = `${a.code} + ${b.code}, ${inStatus === onDisk ? 'status = cgroup' : 'status != cgroup'}${leftover.length ? ', file left' : ''}`;
      rounds.record(round, summary, problems, `${mib(limits[0])}: ${show(a)} | ${mib(limits[1])}: ${show(b)}; cgroup ${mib(onDisk)}, status ${mib(inStatus)}`);
      for (const file of leftover) fs.rmSync(path.join(containerDir, file), { force: true });
    }
    rounds.check();
  });

  it('does not serialise unrelated pods: 10 RunPodSandbox at once all succeed, in well under 10 times one', async () => {
    // Each pod's network set-up sleeps a second (a CNI plugin that waits): pods that do not queue
    // on each other wait out their seconds together, pods behind one lock one after the other.
    const d = await daemons.start({ config: { 'insecure-registries': [registry.host], ...slowCniNetwork(logs, 1) } });
    const client = d.client();
    const singles: number[] = [];
    for (let i = 0; i < 3; i++) singles.push(await timed(() => runPod(client, podConfig(logs))));
    const single = [...singles].sort((x, y) => x - y)[1] ?? 0;
    const outcomes: Outcome<string>[] = [];
    const together = await timed(async () => outcomes.push(...(await Promise.all(Array.from({ length: 10 }, () => outcomeOf(runPod(client, podConfig(logs))))))));
    assert.deepEqual(outcomes.filter((o) => o.code !== 'OK').map(show), [], 'every one of the 10 pods runs');
    assert.equal(new Set(outcomes.map((o) => o.value)).size, 10, 'ten different sandboxes');
    const ratio = together / single;
    assert.ok(ratio < 6, `10 pods at once took ${together.toFixed(0)} ms, ${ratio.toFixed(1)}x one pod (${single.toFixed(0)} ms, median of ${singles.map((t) => t.toFixed(0)).join(', ')}); expected under 6x`);
  });

  it('does not queue other pods behind a long operation on one container', async () => {
    const { client } = await daemonWithBusybox(daemons, registry, image);
    const busy = podConfig(logs);
    const busyPod = await runPod(client, busy);
    // sleep as PID 1 ignores SIGTERM: StopContainer waits out its whole timeout before SIGKILL.
    const stubborn = await startContainer(client, busyPod, busy, containerConfig('stubborn', image, ['sleep', '300']));
    const other = podConfig(logs);
    const otherPod = await runPod(client, other);
    const began = Date.now();
    const stopping = outcomeOf(client.call('StopContainer', { container_id: stubborn, timeout: STOP_TIMEOUT_S }).then(() => Date.now() - began));
    await delay(200);
    const work: Record<string, () => Promise<unknown>> = {
      'RunPodSandbox (a new pod)': () => runPod(client, podConfig(logs)),
      'RunPodSandbox (another new pod)': () => runPod(client, podConfig(logs)),
      'CreateContainer + StartContainer in another pod': () => startContainer(client, otherPod, other, containerConfig('bystander', image, ['sleep', '300'])),
    };
    const done = await Promise.all(Object.entries(work).map(async ([name, run]) => ({ name, outcome: await outcomeOf(run()), ms: Date.now() - began })));
    const stopped = await stopping;
    assert.equal(stopped.code, 'OK', `StopContainer: ${show(stopped)}`);
    const stopMs = stopped.value ?? 0;
    assert.ok(stopMs >= STOP_TIMEOUT_S * 1000, `StopContainer answered after ${stopMs} ms, before its ${STOP_TIMEOUT_S} s timeout: the test did not hold it busy`);
    const report = done.map((d) => `${d.name}: ${show(d.outcome)} after ${d.ms} ms`).join('; ');
    assert.deepEqual(done.filter((d) => d.outcome.code !== 'OK').map((d) => d.name), [], report);
    assert.deepEqual(done.filter((d) => d.ms >= stopMs).map((d) => d.name), [], `waited for StopContainer on another pod (answered after ${stopMs} ms): ${report}`);
  });
});

const MiB = 1024 * 1024;
const STOP_TIMEOUT_S = 4;

/**
 * daemon.json keys for a CNI network whose one plugin, a shell script under `dir`, sleeps
 * `seconds` on ADD and answers with no addresses (the pod keeps only loopback).
 */
function slowCniNetwork(dir: string, seconds: number): Record<string, unknown> {
  const bin = path.join(dir, 'cni-bin');
  const conf = path.join(dir, 'cni-conf');
  fs.mkdirSync(bin);
  fs.mkdirSync(conf);
  const script = [
    '#!/bin/sh',
    'cat >/dev/null',
    'case "$CNI_COMMAND" in',
    `  ADD) sleep ${seconds}; echo '{"cniVersion":"1.0.0","interfaces":[],"ips":[]}' ;;`,
    `  VERSION) echo '{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}' ;;`,
    'esac',
  ];
  fs.writeFileSync(path.join(bin, 'slow-net'), `${script.join('\n')}\n`, { mode: 0o755 });
  fs.writeFileSync(path.join(conf, '10-slow.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'slow', plugins: [{ type: 'slow-net' }] }));
  return { 'network-plugin': 'cni', 'cni-bin-dir': bin, 'cni-conf-dir': conf };
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e6;
}
const mib = (bytes: string | undefined): string => (bytes === undefined ? 'nothing' : /^\d+$/.test(bytes) && Number(bytes) % MiB === 0 ? `${Number(bytes) / MiB} MiB` : bytes);

/** The container's memory limit file under the cgroupfs driver's cgroup path, v1 or v2. */
function memoryLimitFile(cgroupsPath: string): string {
  return detectCgroupMode() === 'v2' ? `/sys/fs/cgroup${cgroupsPath}/memory.max` : `/sys/fs/cgroup/memory${cgroupsPath}/memory.limit_in_bytes`;
}
