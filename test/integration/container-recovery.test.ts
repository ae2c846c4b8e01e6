import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CriClient } from '../../cli/cri-client';
import { KILL_POINTS } from '../../core/crash/kill-point';
import { startBusyboxRegistry } from '../support/busybox-registry';
import { conmons, leftovers } from '../support/crash-host-check';
import { containerConfig, podConfig, runPod } from '../support/pod-fixtures';
import type { TestRegistry } from '../support/registry/test-registry';
import { spawnCaissond, waitUntilServing, writeDaemonJson, type SpawnedDaemon, tearDownSpawned } from '../support/spawned-daemon';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';
import { testDaemonConfig, unmountBelow } from '../support/test-daemon';

// Crash safety of the container RPCs (issue 15): the real caissond is SIGKILLed at each named
// step of CreateContainer, StartContainer, StopContainer and RemoveContainer
// (CAISSON_TEST_KILL_POINT), restarted on the same roots, and the container must be fully there
// with an honest state or fully gone, with nothing left on the host that no listed object owns,
// a recovery line logged where recovery acted, and the pod still working.

/** Sleeps, and ignores SIGTERM, so a stop with a timeout reaches its SIGKILL step. */
const STUBBORN = ['sh', '-c', 'trap "" TERM; while true; do sleep 1; done'];

describe('container crash recovery', function () {
  this.timeout(120_000);
  let registry: TestRegistry;
  let image: string;
  let root: string;
  let logs: string;
  const spawned: SpawnedDaemon[] = [];
  const clients: CriClient[] = [];

  before(async () => ({ registry, image } = await startBusyboxRegistry()));
  after(async () => registry?.stop());
  beforeEach(() => {
    root = makeTempRoot('crash-ctr');
    logs = path.join(root, 'logs');
    fs.mkdirSync(logs);
  });
  afterEach(async function () {
    await tearDownSpawned(spawned, clients, socket(), this.currentTest?.state === 'failed');
    // Safety net after a failure: whatever the daemon did not clean.
    for (const pid of conmons(state()).values()) process.kill(pid, 'SIGKILL');
    await unmountBelow(root);
    removeTempRoot(root);
  });

  const socket = (): string => path.join(root, 'run', 'caisson.sock');
  const state = (): string => path.join(root, 'run');

  async function daemon(killPoint = ''): Promise<{ d: SpawnedDaemon; client: CriClient }> {
    const config = writeDaemonJson(root, testDaemonConfig(root, { 'insecure-registries': [registry.host] }));
    const d = spawnCaissond(['--config', config], { CAISSON_TEST_KILL_POINT: killPoint });
    spawned.push(d);
    await waitUntilServing(d, socket());
    const client = new CriClient(socket());
    clients.push(client);
    return { d, client };
  }

  async function sigkill(d: SpawnedDaemon): Promise<void> {
    d.child.kill('SIGKILL');
    await d.exited;
  }

  async function listed(client: CriClient): Promise<Map<string, { state: string }>> {
    const { containers = [] } = await client.call('ListContainers', {});
    return new Map(containers.map((c) => [String(c.id), { state: String(c.state) }]));
  }

  async function assertClean(client: CriClient): Promise<void> {
    const ids = new Set((await listed(client)).keys());
    assert.deepEqual(leftovers(root, state(), ids), []);
  }

  /** The pod still takes a new container that runs. */
  async function assertPodWorks(client: CriClient, podId: string, pod: Record<string, unknown>): Promise<void> {
    const { container_id } = await client.call('CreateContainer', { pod_sandbox_id: podId, config: containerConfig('after', image, ['sleep', '3600']), sandbox_config: pod });
    await client.call('StartContainer', { container_id });
    const { status } = await client.call('ContainerStatus', { container_id });
    assert.equal(status?.state, 'CONTAINER_RUNNING');
  }

  type Stage = 'none' | 'created' | 'running';
  const stageOf: Record<string, Stage> = { CreateContainer: 'none', StartContainer: 'created', StopContainer: 'running', RemoveContainer: 'running' };
  const points = (['CreateContainer', 'StartContainer', 'StopContainer', 'RemoveContainer'] as const).flatMap((rpc) => KILL_POINTS[rpc].map((point) => ({ rpc, point })));

  for (const { rpc, point } of points) {
    it(`${rpc} killed at ${point}: the container is fully there or fully gone`, async () => {
      // Set up with a daemon that is not armed, then leave it (SIGKILL: containers outlive it).
      let { d, client } = await daemon();
      await client.call('PullImage', { image: { image } });
      const pod = podConfig(logs);
      const podId = await runPod(client, pod);
      const config = containerConfig('work', image, STUBBORN);
      let id = '';
      if (stageOf[rpc] !== 'none') id = String((await client.call('CreateContainer', { pod_sandbox_id: podId, config, sandbox_config: pod })).container_id);
      if (stageOf[rpc] === 'running') await client.call('StartContainer', { container_id: id });
      await sigkill(d);

      // Armed: the RPC kills the daemon at the step.
      ({ d, client } = await daemon(point));
      const call =
        rpc === 'CreateContainer'
          ? client.call('CreateContainer', { pod_sandbox_id: podId, config, sandbox_config: pod })
          : rpc === 'StartContainer'
            ? client.call('StartContainer', { container_id: id })
            : rpc === 'StopContainer'
              ? client.call('StopContainer', { container_id: id, timeout: 1 })
              : client.call('RemoveContainer', { container_id: id });
      await assert.rejects(call);
      assert.equal(await d.exited, 'SIGKILL', `caissond did not die at ${point}:\n${d.output()}`);

      // Restarted on the same roots: recovery has run before it serves.
      ({ d, client } = await daemon());
      const all = await listed(client);
      const recovery = d.output().split('\n').filter((line) => line.includes('recovery: container'));
      const expect = expectations[point];
      assert.ok(expect, `no expectation for kill point ${point}`);
      if (expect.gone) {
        assert.equal(all.size, 0, `containers left after ${point}: ${[...all.keys()].join(', ')}`);
      } else {
        const only = [...all.values()];
        assert.equal(only.length, 1);
        assert.equal(only[0]?.state, expect.state);
      }
      if (expect.logged) assert.ok(recovery.some((line) => line.includes(expect.logged ?? '')), `no "${expect.logged}" recovery line after ${point}:\n${d.output()}`);
      await assertClean(client);
      await assertPodWorks(client, podId, pod);
    });
  }

  it('settles a RUNNING container whose conmon and process were killed: EXITED Unknown, then Stop and Remove succeed', async () => {
    let { d, client } = await daemon();
    await client.call('PullImage', { image: { image } });
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const { container_id } = await client.call('CreateContainer', { pod_sandbox_id: podId, config: containerConfig('doomed', image, ['sleep', '3600']), sandbox_config: pod });
    const id = String(container_id);
    await client.call('StartContainer', { container_id: id });
    const { status } = await client.call('ContainerStatus', { container_id: id });
    await sigkill(d);
    // conmon first (so it writes no exit file), then the container's process.
    const conmon = conmons(state()).get(id);
    assert.ok(conmon, 'no conmon for the container');
    process.kill(conmon, 'SIGKILL');
    const pid = Number(fs.readFileSync(path.join(state(), 'containers', id, 'persist', 'pidfile'), 'utf8'));
    process.kill(pid, 'SIGKILL');
    await delay(300);
    fs.rmSync(path.join(state(), 'exits', id), { force: true });
    assert.ok(status);

    ({ d, client } = await daemon());
    const after = (await client.call('ContainerStatus', { container_id: id })).status;
    assert.equal(after?.state, 'CONTAINER_EXITED');
    assert.equal(after?.reason, 'Unknown');
    assert.equal(after?.exit_code, 255);
    assert.match(String(after?.message), /process is gone .* no exit code was recorded/);
    assert.ok(d.output().includes(`recovery: container ${id} completed`), d.output());
    await client.call('StopContainer', { container_id: id, timeout: 0 });
    await client.call('RemoveContainer', { container_id: id });
    await client.call('StopPodSandbox', { pod_sandbox_id: podId });
    await client.call('RemovePodSandbox', { pod_sandbox_id: podId });
    await assertClean(client);
  });

  it('settles a container whose process dies while the daemon runs and whose conmon is gone: StopContainer succeeds', async () => {
    const { client } = await daemon();
    await client.call('PullImage', { image: { image } });
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const { container_id } = await client.call('CreateContainer', { pod_sandbox_id: podId, config: containerConfig('lost', image, ['sleep', '3600']), sandbox_config: pod });
    const id = String(container_id);
    await client.call('StartContainer', { container_id: id });
    const conmon = conmons(state()).get(id);
    assert.ok(conmon);
    process.kill(conmon, 'SIGKILL');
    process.kill(Number(fs.readFileSync(path.join(state(), 'containers', id, 'persist', 'pidfile'), 'utf8')), 'SIGKILL');
    await delay(300);
    await client.call('StopContainer', { container_id: id, timeout: 2 });
    const { status } = await client.call('ContainerStatus', { container_id: id });
    assert.equal(status?.state, 'CONTAINER_EXITED');
    assert.equal(status?.reason, 'Unknown');
    await client.call('RemoveContainer', { container_id: id });
    await assertClean(client);
    void podId;
  });

  it('puts conmon in a cgroup of its own with the cgroupfs driver, and removes it with the container', async () => {
    const { client } = await daemon();
    await client.call('PullImage', { image: { image } });
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const { container_id } = await client.call('CreateContainer', { pod_sandbox_id: podId, config: containerConfig('watched', image, ['sleep', '3600']), sandbox_config: pod });
    const id = String(container_id);
    const conmon = conmons(state()).get(id);
    assert.ok(conmon);
    const daemonPid = spawned[spawned.length - 1]?.child.pid;
    // The hierarchies mounted on this host (v1 may leave some, like net_cls, unmounted).
    const mounted = (line: string): boolean => {
      const controllers = line.split(':')[1] ?? '';
      if (controllers === '') return fs.existsSync('/sys/fs/cgroup/cgroup.controllers') || fs.existsSync('/sys/fs/cgroup/unified');
      return fs.existsSync(`/sys/fs/cgroup/${controllers.replace('name=', '')}`);
    };
    const cgroupsOf = (pid: number) => fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n').filter(mounted);
    const mine = cgroupsOf(Number(daemonPid));
    const its = cgroupsOf(conmon);
    for (const line of its) {
      assert.ok(line.endsWith(`/conmon-${id}`), `conmon's cgroup line "${line}" is not its own`);
      assert.ok(!mine.includes(line), `conmon shares the daemon's cgroup "${line}"`);
    }
    const memoryDir = `/sys/fs/cgroup/memory/caisson/conmon-${id}`;
    const v2Dir = `/sys/fs/cgroup/caisson/conmon-${id}`;
    const dir = fs.existsSync(memoryDir) ? memoryDir : v2Dir;
    assert.ok(fs.existsSync(dir), `${dir} is missing`);
    await client.call('RemoveContainer', { container_id: id });
    assert.equal(fs.existsSync(dir), false, `${dir} is still there after RemoveContainer`);
  });

  it('serialises two StartContainer: one OK, the other FAILED_PRECONDITION, the container RUNNING', async () => {
    const { client } = await daemon();
    await client.call('PullImage', { image: { image } });
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    for (let round = 0; round < 8; round += 1) {
      const { container_id } = await client.call('CreateContainer', { pod_sandbox_id: podId, config: containerConfig(`pair-${round}`, image, ['sleep', '3600']), sandbox_config: pod });
      const results = await Promise.allSettled([client.call('StartContainer', { container_id }), client.call('StartContainer', { container_id })]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, `round ${round}: ${JSON.stringify(results)}`);
      const lost = results.find((r) => r.status === 'rejected');
      assert.equal((lost as PromiseRejectedResult).reason.code, 9, `round ${round}: ${String((lost as PromiseRejectedResult).reason)}`);
      const { status } = await client.call('ContainerStatus', { container_id });
      assert.equal(status?.state, 'CONTAINER_RUNNING', `round ${round}`);
      await client.call('RemoveContainer', { container_id });
    }
  });
});

interface Expectation {
  /** Gone after recovery, or there in this state. */
  readonly gone: boolean;
  readonly state?: string;
  /** A word the recovery line must carry ("rolled back", "completed"); none when nothing was half-done. */
  readonly logged?: string;
}

const expectations: Record<string, Expectation> = {
  'container-dirs-made': { gone: true, logged: 'rolled back' },
  'container-rootfs-mounted': { gone: true, logged: 'rolled back' },
  'container-spec-written': { gone: true, logged: 'rolled back' },
  'container-created-in-runtime': { gone: true, logged: 'rolled back' },
  'container-recorded': { gone: false, state: 'CONTAINER_CREATED' },
  'container-started-in-runtime': { gone: false, state: 'CONTAINER_RUNNING', logged: 'completed' },
  'container-running-recorded': { gone: false, state: 'CONTAINER_RUNNING' },
  'container-stop-signalled': { gone: false, state: 'CONTAINER_EXITED', logged: 'completed' },
  'container-killed': { gone: false, state: 'CONTAINER_EXITED', logged: 'completed' },
  'container-remove-marked': { gone: true, logged: 'completed' },
  'container-deleted-in-runtime': { gone: true, logged: 'completed' },
  'container-rootfs-unmounted': { gone: true, logged: 'completed' },
  'container-dirs-removed': { gone: true, logged: 'completed' },
};
