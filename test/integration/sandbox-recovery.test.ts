import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CriClient } from '../../cli/cri-client';
import { KILL_POINTS } from '../../core/crash/kill-point';
import { holderProcesses } from '../../core/pods/sandbox-host-sweep';
import { reservedAddresses, restoreHost, snapshotHost, type HostSnapshot } from '../support/cni-host';
import { podConfig, runPod } from '../support/pod-fixtures';
import { busyboxBaseLayer, pushImage } from '../support/images/image-builder';
import { BUSYBOX_CONFIG } from '../support/images/standard-images';
import { startTestRegistry, type TestRegistry } from '../support/registry/test-registry';
import { runProgram } from '../../core/host-programs/run-program';
import { spawnCaissond, waitUntilServing, writeDaemonJson, type SpawnedDaemon, tearDownSpawned } from '../support/spawned-daemon';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';
import { testDaemonConfig, unmountBelow } from '../support/test-daemon';

// Issue 15, sandboxes: the real caissond (dist/) is SIGKILLed at each named step of
// RunPodSandbox, StopPodSandbox and RemovePodSandbox (CAISSON_TEST_KILL_POINT), restarted on the
// same roots, and the host is checked: the sandbox is whole or gone, and nothing is left that no
// listed sandbox owns (mounts under the root, PID holders, host-local IPs, pod cgroups). Pods run
// on a CNI bridge of their own (cni-csn-sbx, 10.251.7.0/24) so a leaked IP is visible, with a
// cgroup parent of their own so the cgroup check sees only this test's pods.

const CNI_BIN = '/usr/lib/cni';
const BRIDGE = 'cni-csn-sbx';
const NETWORK = 'caisson-sbx-test';
const CGROUP_PARENT = `/caisson-sbx-test-${process.pid}`;

describe('sandbox recovery after a SIGKILL at each step', function () {
  this.timeout(120_000);
  let root: string;
  let dataDir: string;
  let logs: string;
  let host: HostSnapshot;
  let config: string;
  let conf: string;
  let registry: TestRegistry;
  let pauseImage: string;
  const spawned: SpawnedDaemon[] = [];
  const clients: CriClient[] = [];

  const socket = (): string => path.join(root, 'run', 'caisson.sock');
  const sandboxesDir = (): string => path.join(root, 'run', 'sandboxes');
  const client = (): CriClient => {
    const c = new CriClient(socket());
    clients.push(c);
    return c;
  };
  const start = async (killPoint?: string): Promise<SpawnedDaemon> => {
    const daemon = spawnCaissond(['--config', config], killPoint ? { CAISSON_TEST_KILL_POINT: killPoint } : {});
    spawned.push(daemon);
    await waitUntilServing(daemon, socket());
    return daemon;
  };
  const pod = (): Record<string, unknown> =>
    podConfig(logs, { linux: { security_context: { namespace_options: { network: 'POD', pid: 'POD', ipc: 'POD' } } } });

  before(async function () {
    for (const plugin of ['bridge', 'host-local']) {
      if (!fs.existsSync(path.join(CNI_BIN, plugin))) throw new Error(`these tests need ${CNI_BIN}/${plugin} (Debian package containernetworking-plugins)`);
    }
    registry = await startTestRegistry();
    await pushImage(registry, { repository: 'pause', tags: ['3.9'], layers: [busyboxBaseLayer()], config: { ...BUSYBOX_CONFIG, Cmd: ['sleep', 'infinity'] } });
    pauseImage = `${registry.host}/pause:3.9`;
  });
  after(async () => registry?.stop());
  const withPauseImage = (): void => {
    config = writeDaemonJson(root, testDaemonConfig(root, { 'network-plugin': 'cni', 'cni-conf-dir': conf, 'cni-bin-dir': CNI_BIN, 'cgroup-parent': CGROUP_PARENT, 'insecure-registries': [registry.host], 'pod-sandbox-image': pauseImage }));
  };

  beforeEach(async () => {
    host = await snapshotHost();
    root = makeTempRoot('sbx-recovery');
    dataDir = path.join(root, 'ipam');
    logs = path.join(root, 'logs');
    conf = path.join(root, 'net.d');
    fs.mkdirSync(conf);
    fs.mkdirSync(logs);
    fs.writeFileSync(
      path.join(conf, '10-test.conflist'),
      JSON.stringify({
        cniVersion: '1.0.0',
        name: NETWORK,
        plugins: [{ type: 'bridge', bridge: BRIDGE, isGateway: true, ipMasq: false, ipam: { type: 'host-local', subnet: '10.251.7.0/24', dataDir } }],
      }),
    );
    config = writeDaemonJson(root, testDaemonConfig(root, { 'network-plugin': 'cni', 'cni-conf-dir': conf, 'cni-bin-dir': CNI_BIN, 'cgroup-parent': CGROUP_PARENT }));
  });

  afterEach(async function () {
    await tearDownSpawned(spawned, clients, socket(), this.currentTest?.state === 'failed');
    // Safety net after a failure: holders, mounts, cgroups of this test's pods.
    for (const pids of holderProcesses(sandboxesDir()).values()) pids.forEach((pid) => killQuietly(pid));
    await unmountBelow(root);
    for (const dir of cgroupParentDirs()) {
      const children = fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()) : [];
      for (const child of children) await fs.promises.rmdir(path.join(dir, child.name)).catch(() => undefined);
      await fs.promises.rmdir(dir).catch(() => undefined);
    }
    const problems = await restoreHost(host, [BRIDGE]);
    removeTempRoot(root);
    assert.deepEqual(problems, []);
  });

  /** Every invariant after a restart: what the CRI lists is whole, nothing else is on the host. */
  const checkHost = async (c: CriClient): Promise<Map<string, string>> => {
    const { items = [] } = await c.call('ListPodSandbox', {});
    const states = new Map(items.map((s) => [String(s.id), String(s.state)]));
    const ready = new Set([...states].filter(([, state]) => state === 'SANDBOX_READY').map(([id]) => id));
    for (const [id, state] of states) {
      const dir = path.join(sandboxesDir(), id);
      assert.ok(fs.existsSync(dir), `listed sandbox ${id} has its directory`);
      assert.equal(fs.existsSync(path.join(dir, 'intent.json')), false, `sandbox ${id} has no intent left`);
      if (state === 'SANDBOX_READY') assert.equal((await c.call('PodSandboxStatus', { pod_sandbox_id: id })).status?.network?.ip !== '', true);
    }
    // runc state: only pause containers whose PID holds a READY sandbox's PID namespace.
    const readyPids = new Set<string>();
    for (const id of ready) readyPids.add(String(JSON.parse((await c.call('PodSandboxStatus', { pod_sandbox_id: id, verbose: true })).info?.['info'] ?? '{}').namespaces?.pid ?? ''));
    const runcRoot = path.join(root, 'run', 'runtimes', 'runc');
    const listed = fs.existsSync(runcRoot) ? (JSON.parse((await runProgram('runc', ['--root', runcRoot, 'list', '-f', 'json'])).stdout || '[]') as { id: string; pid: number }[] | null) ?? [] : [];
    const stray = listed.filter((r) => !readyPids.has(`/proc/${r.pid}/ns/pid`));
    assert.deepEqual(stray.map((r) => r.id), [], 'no runc state but the pause containers of READY sandboxes');
    const owned = [...ready].map((id) => path.join(sandboxesDir(), id) + '/');
    const pauseIds = listed.map((r) => r.id);
    const mounts = mountsBelow(root).filter((m) => !owned.some((dir) => m.startsWith(dir)) && !pauseIds.some((id) => m.includes(`/${id}/`)));
    assert.deepEqual(mounts, [], 'no mount under the root but those of READY sandboxes');
    const dirs = fs.existsSync(sandboxesDir()) ? fs.readdirSync(sandboxesDir()) : [];
    assert.deepEqual(dirs.filter((d) => !states.has(d)), [], 'no sandbox directory without a listed sandbox');
    assert.deepEqual([...holderProcesses(sandboxesDir()).keys()].filter((id) => !ready.has(id)), [], 'no PID holder but those of READY sandboxes');
    const ipOwners = reservedAddresses(dataDir, NETWORK).map((ip) => fs.readFileSync(path.join(dataDir, NETWORK, ip), 'utf8').split(/\r?\n/)[0] ?? '');
    assert.deepEqual(ipOwners.filter((id) => !ready.has(id)), [], 'no host-local IP but those of READY sandboxes');
    const cgroups = cgroupParentDirs().flatMap((dir) => (fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name) : []));
    // Beside the pods' cgroups, a pause container's conmon has one of its own (conmon-<id>).
    const owner = (name: string): string => (name.startsWith('conmon-') ? name.slice('conmon-'.length) : name);
    assert.deepEqual(cgroups.filter((name) => !states.has(owner(name)) && !pauseIds.includes(owner(name))), [], 'no pod cgroup but those of listed sandboxes and their pause containers');
    return states;
  };

  /** The CRI still works after the restart: a new pod runs and goes, its IP freed. */
  const checkCriWorks = async (c: CriClient): Promise<void> => {
    const id = await runPod(c, pod());
    await c.call('RemovePodSandbox', { pod_sandbox_id: id });
    const ipOwners = reservedAddresses(dataDir, NETWORK).map((ip) => fs.readFileSync(path.join(dataDir, NETWORK, ip), 'utf8').split(/\r?\n/)[0]);
    assert.ok(!ipOwners.includes(id), 'the new pod\'s IP was freed');
  };

  const expectKilled = async (daemon: SpawnedDaemon, call: Promise<unknown>): Promise<void> => {
    await assert.rejects(call, 'the RPC did not answer: the daemon died at the kill point');
    assert.equal(await daemon.exited, 'SIGKILL');
  };

  for (const point of KILL_POINTS.RunPodSandbox) {
    it(`RunPodSandbox killed at ${point}: after a restart the pod is whole and READY, or gone`, async () => {
      const armed = await start(point);
      await expectKilled(armed, client().call('RunPodSandbox', { config: pod() }));
      const [made] = fs.readdirSync(sandboxesDir());
      assert.ok(made, 'the RPC had made its sandbox directory');
      const restarted = await start();
      const c = client();
      const states = await checkHost(c);
      if (point === 'sandbox-recorded') {
        assert.equal(states.get(made), 'SANDBOX_READY');
        assert.match(restarted.output(), new RegExp(`recovery: sandbox ${made} completed`));
      } else {
        assert.equal(states.size, 0);
        assert.match(restarted.output(), new RegExp(`recovery: sandbox ${made} rolled back`));
      }
      await checkCriWorks(c);
    });
  }

  for (const [rpc, point] of [
    ['RunPodSandbox', 'sandbox-network-set-up'],
    ['RunPodSandbox', 'sandbox-pid-holder-started'],
    ['RunPodSandbox', 'sandbox-recorded'],
    ['StopPodSandbox', 'sandbox-network-torn-down'],
    ['RemovePodSandbox', 'sandbox-remove-marked'],
  ] as const) {
    it(`with a pause container (pod-sandbox-image): ${rpc} killed at ${point}`, async () => {
      withPauseImage();
      const armed = await start(point);
      const id = rpc === 'RunPodSandbox' ? undefined : await runPod(client(), pod());
      await expectKilled(armed, rpc === 'RunPodSandbox' ? client().call(rpc, { config: pod() }) : client().call(rpc, { pod_sandbox_id: id }));
      const [made = ''] = fs.readdirSync(sandboxesDir());
      const restarted = await start();
      const c = client();
      const states = await checkHost(c);
      const expected = point === 'sandbox-recorded' ? 'SANDBOX_READY' : rpc === 'StopPodSandbox' ? 'SANDBOX_NOTREADY' : undefined;
      assert.equal(states.get(id ?? made), expected);
      assert.match(restarted.output(), new RegExp(`recovery: sandbox ${id ?? made} ${rpc === 'RunPodSandbox' && expected === undefined ? 'rolled back' : 'completed'}`));
      await checkCriWorks(c);
    });
  }

  for (const [rpc, points] of [['StopPodSandbox', KILL_POINTS.StopPodSandbox], ['RemovePodSandbox', KILL_POINTS.RemovePodSandbox]] as const) {
    for (const point of points) {
      it(`${rpc} killed at ${point}: after a restart the ${rpc === 'StopPodSandbox' ? 'stop' : 'removal'} is completed`, async () => {
        const armed = await start(point);
        const id = await runPod(client(), pod());
        await expectKilled(armed, client().call(rpc, { pod_sandbox_id: id }));
        const restarted = await start();
        const c = client();
        const states = await checkHost(c);
        if (rpc === 'StopPodSandbox') assert.equal(states.get(id), 'SANDBOX_NOTREADY');
        else assert.equal(states.has(id), false);
        assert.match(restarted.output(), new RegExp(`recovery: sandbox ${id} completed`));
        await checkCriWorks(c);
      });
    }
  }
});

function mountsBelow(root: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => (line.split(' ')[4] ?? '').replace(/\\040/g, ' '))
    .filter((mountpoint) => mountpoint.startsWith(`${root}/`));
}

function cgroupParentDirs(): string[] {
  return fs
    .readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .filter(([, mountpoint, type]) => mountpoint?.startsWith('/sys/fs/cgroup/') && (type === 'cgroup' || type === 'cgroup2'))
    .map(([, mountpoint]) => path.join(mountpoint ?? '', CGROUP_PARENT));
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
