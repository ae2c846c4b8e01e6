import assert from 'node:assert/strict';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CriClient } from '../../cli/cri-client';
import { startBusyboxRegistry } from '../support/busybox-registry';
import { cleanUpHost } from '../support/host-cleanup';
import { checkHostInvariants, type HostRoots } from '../support/host-invariants';
import { containerConfig, podConfig } from '../support/pod-fixtures';
import type { TestRegistry } from '../support/registry/test-registry';
import { killIfRunning, spawnCaissond, waitUntilServing, writeDaemonJson, type SpawnedDaemon } from '../support/spawned-daemon';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';
import { removeEverything, testDaemonConfig, unmountBelow } from '../support/test-daemon';

// Issue 15's churn test: 30 pods with one busybox container each, started and removed in a loop
// for CHURN_MS, while caissond (a real process, cgroupfs driver, host network) is SIGKILLed at
// random moments at least MIN_KILLS times and restarted on the same roots. RPC errors from a kill
// are expected: the worker waits for the restart and starts a new cycle. After each restart every
// container that was running at the kill and not stopped since must still be running; at the end,
// after removing everything through the CRI and one last restart, host-invariants must be clean.

const WORKERS = 30;
const CHURN_MS = 75_000;
const MIN_KILLS = 10;

describe('crash churn: SIGKILL at random moments under load', function () {
  this.timeout(CHURN_MS + 240_000);
  let registry: TestRegistry;
  let image: string;
  let root: string;
  let daemon: SpawnedDaemon | undefined;
  const outputs: string[] = [];
  const clients: CriClient[] = [];

  before(async () => ({ registry, image } = await startBusyboxRegistry()));
  after(async () => registry?.stop());
  beforeEach(() => (root = makeTempRoot('churn')));
  afterEach(async function () {
    if (daemon && daemon.child.exitCode === null) await removeEverything(socket()).catch((error: unknown) => process.stderr.write(`teardown: ${String(error)}\n`));
    clients.splice(0).forEach((client) => client.close());
    if (daemon) await killIfRunning(daemon);
    if (this.currentTest?.state === 'failed') process.stderr.write(`--- last caissond output ---\n${outputs.slice(-1).join('')}\n`);
    // What the daemon could not remove (failed recovery) is removed here, so no run leaks.
    await cleanUpHost(roots());
    await unmountBelow(root);
    removeTempRoot(root);
  });

  const socket = (): string => path.join(root, 'run', 'caisson.sock');
  const cgroupParent = `/caisson-churn-${process.pid}`;
  const roots = (): HostRoots => ({ graph: path.join(root, 'lib'), state: path.join(root, 'run'), cgroupParent });

  const startDaemon = async (): Promise<CriClient> => {
    const config = writeDaemonJson(root, testDaemonConfig(root, { 'insecure-registries': [registry.host], 'cgroup-parent': cgroupParent }));
    daemon = spawnCaissond(['--config', config]);
    const started = daemon;
    void started.exited.then(() => outputs.push(started.output()));
    await waitUntilServing(started, socket(), 60_000);
    const client = new CriClient(socket());
    clients.push(client);
    return client;
  };

  it(`keeps running containers and leaks nothing across at least ${MIN_KILLS} SIGKILLs`, async () => {
    let client = await startDaemon();
    await client.call('PullImage', { image: { image } });

    // Containers whose StartContainer answered OK and whose pod no worker has begun to stop.
    const running = new Set<string>();
    const lost: string[] = [];
    let gate: Promise<void> = Promise.resolve();
    let kills = 0;
    let cycles = 0;
    let errors = 0;
    const deadline = Date.now() + CHURN_MS;

    const worker = async (n: number): Promise<void> => {
      while (Date.now() < deadline) {
        await gate;
        let podId: string | undefined;
        let containerId: string | undefined;
        try {
          const pod = podConfig(path.join(root, 'logs'), { metadata: { name: `churn-${n}-${cycles}`, namespace: 'churn', uid: `uid-${n}-${Date.now()}`, attempt: 0 } });
          podId = String((await client.call('RunPodSandbox', { config: pod }, { timeoutMs: 60_000 })).pod_sandbox_id);
          containerId = String((await client.call('CreateContainer', { pod_sandbox_id: podId, config: containerConfig('c', image, ['sleep', '600']), sandbox_config: pod }, { timeoutMs: 60_000 })).container_id);
          await client.call('StartContainer', { container_id: containerId }, { timeoutMs: 60_000 });
          running.add(containerId);
          await delay(500 + Math.random() * 3000);
          running.delete(containerId);
          await client.call('StopPodSandbox', { pod_sandbox_id: podId }, { timeoutMs: 60_000 });
          await client.call('RemovePodSandbox', { pod_sandbox_id: podId }, { timeoutMs: 60_000 });
          cycles += 1;
        } catch {
          // Expected around a kill: what this cycle made is removed at the end through the CRI.
          if (containerId) running.delete(containerId);
          errors += 1;
          await delay(200);
        }
      }
    };

    const killer = async (): Promise<void> => {
      while (Date.now() < deadline || kills < MIN_KILLS) {
        await delay(2000 + Math.random() * 4000);
        let open!: () => void;
        const wasRunning = new Set(running);
        const current = daemon as SpawnedDaemon;
        current.child.kill('SIGKILL');
        await current.exited;
        gate = new Promise((resolve) => (open = resolve));
        kills += 1;
        try {
          client = await startDaemon();
          // Checked before the workers go on, so no worker has stopped any of them since.
          for (const id of wasRunning) {
            if (!running.has(id)) continue;
            const { status } = await client.call('ContainerStatus', { container_id: id }).catch((error: { details?: string }) => ({ status: { state: `not found (${error.details})`, reason: '' } }));
            if (status?.state !== 'CONTAINER_RUNNING') lost.push(`kill #${kills}: container ${id} was running at the kill and not stopped since, but after the restart it is ${status?.state} ${status?.reason ?? ''}`.trim());
          }
        } finally {
          open();
        }
      }
    };

    await Promise.all([killer(), ...Array.from({ length: WORKERS }, (_v, n) => worker(n))]);
    process.stderr.write(`churn: ${kills} kills, ${cycles} full pod cycles, ${errors} cycles cut by a kill\n`);
    assert.ok(kills >= MIN_KILLS, `only ${kills} kills`);

    // Everything the CRI lists goes through the CRI, then one last restart on the same roots.
    const leftovers: string[] = [];
    await removeEverything(socket()).catch((error: Error) => leftovers.push(`removing everything through the CRI failed: ${error.message}`));
    const last = daemon as SpawnedDaemon;
    last.child.kill('SIGKILL');
    await last.exited;
    client = await startDaemon();
    await removeEverything(socket()).catch((error: Error) => leftovers.push(`removing everything after the last restart failed: ${error.message}`));
    const { items = [] } = await client.call('ListPodSandbox', {});
    const { containers = [] } = await client.call('ListContainers', {});
    if (items.length + containers.length > 0) leftovers.push(`still listed after removing everything: ${items.length} sandboxes, ${containers.length} containers`);
    const violations = await checkHostInvariants(client, roots());
    const problems = [...lost, ...leftovers, ...violations];
    assert.deepEqual(problems, [], `after ${kills} kills, ${problems.length} problems; by kind:\n${summary(problems)}\nevery one:\n  ${problems.join('\n  ')}`);
  });
});

/** Counts per kind of problem ("mount …/rootfs", "cgroup", "runc state"), IDs and roots left out. */
function summary(problems: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const problem of problems) {
    const kind = problem
      .replace(/\/tmp\/caisson-test-churn-[^/ ]+/g, '<root>')
      .replace(/[0-9a-f]{64}/g, '<id>')
      .replace(/\/sys\/fs\/cgroup\/[^/]+\//, '/sys/fs/cgroup/<hierarchy>/')
      .replace(/\b(process|holder|kill #)\s*\d+/g, '$1 N')
      .replace(/ \(conmon[^)]*\)/, ' (conmon)');
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).map(([kind, n]) => `  ${String(n).padStart(4)} × ${kind}`).join('\n');
}
