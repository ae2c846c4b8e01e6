import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { CriClient } from '../../cli/cri-client';
import { busyboxBaseLayer, pushImage } from '../support/images/image-builder';
import { BUSYBOX_CONFIG } from '../support/images/standard-images';
import { containerConfig, criLogLines, podConfig, runPod, startContainer, waitForExit } from '../support/pod-fixtures';
import { startTestRegistry, type TestRegistry } from '../support/registry/test-registry';
import { waitUntilServing, writeDaemonJson, type SpawnedDaemon } from '../support/spawned-daemon';
import { bootSystemd, type SystemdHarness } from '../support/systemd-harness';

// The systemd cgroup driver against a real systemd: systemd boots as PID 1 of its own PID and
// mount namespaces (test/support/systemd-harness.ts), caissond (from dist/) runs inside them
// with "systemd-cgroup": true, runc creates the container scopes over D-Bus. The cgroup
// hierarchies are the host's, so the test reads the scopes' files from the host.
// Needs: root, systemd + dbus, runc, conmon, docker-registry; `npm run build` first.

const MEMORY = '/sys/fs/cgroup/memory';

describe('systemd cgroup driver under a real systemd', function () {
  this.timeout(120_000);
  let registry: TestRegistry;
  let image: string;
  let systemd: SystemdHarness;
  let daemon: SpawnedDaemon;
  let client: CriClient;
  let logs: string;

  before(async () => {
    registry = await startTestRegistry();
    await pushImage(registry, { repository: 'busybox', tags: ['latest'], layers: [busyboxBaseLayer()], config: BUSYBOX_CONFIG });
    image = `${registry.host}/busybox:latest`;
    systemd = await bootSystemd();
    const root = systemd.workDir;
    logs = path.join(root, 'pod-logs');
    fs.mkdirSync(logs);
    fs.mkdirSync(path.join(root, 'run'));
    socket = path.join(root, 'run', 'caisson.sock');
    daemonConfig = {
      'systemd-cgroup': true,
      hosts: [`unix://${socket}`],
      graph: path.join(root, 'lib'),
      state: path.join(root, 'run'),
      pidfile: path.join(root, 'run', 'caissond.pid'),
      group: 'root',
      'network-plugin': 'none',
      'insecure-registries': [registry.host],
    };
    await startDaemon(daemonConfig);
    await client.call('PullImage', { image: { image } });
  });

  let daemonConfig: Record<string, unknown>;
  let socket: string;
  /** (Re)starts caissond inside with this daemon.json, and connects the client. */
  const startDaemon = async (config: Record<string, unknown>): Promise<void> => {
    const file = writeDaemonJson(systemd.workDir, config);
    daemon = spawnInside(systemd, [path.join(systemd.checkout, 'bin', 'caissond'), '--config', file]);
    await waitUntilServing(daemon, socket, 30_000);
    client = new CriClient(socket);
  };

  after(async () => {
    client?.close();
    if (daemon && this.ctx.currentTest?.state === 'failed') process.stderr.write(`--- caissond ---\n${daemon.output()}\n`);
    await systemd?.stop();
    await registry?.stop();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') process.stderr.write(`--- caissond ---\n${daemon?.output() ?? ''}\n`);
    if (!client) return;
    const { items } = await client.call('ListPodSandbox', {});
    for (const pod of items ?? []) await client.call('RemovePodSandbox', { pod_sandbox_id: pod.id });
  });

  const inside = (command: string, ...args: string[]): { status: number | null; stdout: string } => systemd.runInside(command, args);

  it('answers SYSTEMD in RuntimeConfig', async () => {
    const response = await client.call('RuntimeConfig', {});
    assert.equal(response.linux?.cgroup_driver, 'SYSTEMD');
  });

  it('puts a container with a memory limit in caisson-<id>.scope under the kubelet slice, and leaves none behind', async () => {
    const uid = `u${process.pid}x${Date.now().toString(36)}`;
    const podSlice = `kubepods-burstable-pod${uid}.slice`;
    const pod = podConfig(logs, { linux: { cgroup_parent: podSlice, security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } } });
    const podId = await runPod(client, pod);
    const limit = 64 * 1024 * 1024;
    const id = await startContainer(client, podId, pod, containerConfig('sleeper', image, ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done'], { linux: { resources: { memory_limit_in_bytes: String(limit) } } }));
    const sliceDir = path.join(MEMORY, 'kubepods.slice', 'kubepods-burstable.slice', podSlice);
    const scopeDir = path.join(sliceDir, `caisson-${id}.scope`);
    assert.equal(fs.readFileSync(path.join(scopeDir, 'memory.limit_in_bytes'), 'utf8').trim(), String(limit));
    const status = inside('systemctl', 'is-active', `caisson-${id}.scope`);
    assert.equal(status.stdout.trim(), 'active', `systemctl is-active caisson-${id}.scope: ${status.stdout}`);
    const cgroup = inside('systemctl', 'show', '-p', 'ControlGroup', '--value', `caisson-${id}.scope`).stdout.trim();
    assert.equal(cgroup, `/kubepods.slice/kubepods-burstable.slice/${podSlice}/caisson-${id}.scope`);
    // The scope holds the container's processes only (conmon lives elsewhere).
    const commands = fs
      .readFileSync(path.join(scopeDir, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((pid) => fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim());
    assert.ok(commands.length > 0 && commands.every((c) => c === 'sh' || c === 'sleep'), `processes in the scope: ${commands.join(', ')}`);
    // conmon has a scope of its own in the pod's slice, as CRI-O gives it.
    const conmonScope = `caisson-conmon-${id}.scope`;
    assert.equal(inside('systemctl', 'is-active', conmonScope).stdout.trim(), 'active');
    const conmonProcs = fs.readFileSync(path.join(sliceDir, conmonScope, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
    assert.deepEqual(conmonProcs.map((pid) => fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim()), ['conmon']);
    const stats = await client.call('ContainerStats', { container_id: id });
    assert.ok(Number(stats.stats?.memory?.working_set_bytes?.value ?? 0) > 0, `stats: ${JSON.stringify(stats.stats?.memory)}`);

    await client.call('StopContainer', { container_id: id, timeout: '10' });
    await client.call('RemovePodSandbox', { pod_sandbox_id: podId });
    assert.equal(fs.existsSync(scopeDir), false, `${scopeDir} is left behind`);
    assert.equal(fs.existsSync(path.join(sliceDir, conmonScope)), false, `${conmonScope} is left behind`);
    assert.notEqual(inside('systemctl', 'is-active', `caisson-${id}.scope`).stdout.trim(), 'active');
  });

  it('stops a container that ignores SIGTERM with SIGKILL after the timeout', async () => {
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    // sleep as PID 1 of its PID namespace ignores SIGTERM; `runc kill --all` alone kills nothing
    // under --systemd-cgroup on this runc and cgroup v1, so the daemon also signals the init.
    const id = await startContainer(client, podId, pod, containerConfig('stubborn', image, ['sleep', '300']));
    await client.call('StopContainer', { container_id: id, timeout: '1' });
    const { status } = await client.call('ContainerStatus', { container_id: id });
    assert.deepEqual([status?.state, status?.exit_code], ['CONTAINER_EXITED', 137]);
    await client.call('RemovePodSandbox', { pod_sandbox_id: podId });
  });

  it('refuses a cgroup parent that is not a slice', async () => {
    const pod = podConfig(logs, { linux: { cgroup_parent: '/kubepods/burstable/pod1234', security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } } });
    await assert.rejects(runPod(client, pod), (error: grpc.ServiceError) => {
      assert.equal(error.code, grpc.status.INVALID_ARGUMENT);
      assert.match(error.details, /^Invalid cgroup path: cgroup parent "\/kubepods\/burstable\/pod1234" of sandbox [0-9a-f]+ is not a systemd slice/);
      return true;
    });
  });

  it('runs a container that echoes and exits in a pod without a cgroup parent, and leaves no caisson unit behind', async () => {
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const id = await startContainer(client, podId, pod, containerConfig('echo', image, ['sh', '-c', 'echo out; echo err >&2; exit 3']));
    const status = await waitForExit(client, id);
    assert.equal(status.exit_code, 3);
    assert.equal(status.reason, 'Error');
    assert.deepEqual(criLogLines(path.join(logs, 'echo.log')).sort(), [['stderr', 'F', 'err'], ['stdout', 'F', 'out']]);
    await client.call('RemovePodSandbox', { pod_sandbox_id: podId });
    const leftovers = inside('systemctl', 'list-units', '--all', '--no-legend', '--plain', 'caisson*').stdout.trim();
    assert.equal(leftovers, '', `units left behind:\n${leftovers}`);
  });

  it('refuses a restart with "systemd-cgroup": false while a pod made under systemd exists', async () => {
    const podId = await runPod(client, podConfig(logs));
    client.close();
    // The spawned process is nsenter; caissond is its child (in systemd's PID namespace).
    const nsenterPid = daemon.child.pid ?? 0;
    const caissondPid = Number(fs.readFileSync(`/proc/${nsenterPid}/task/${nsenterPid}/children`, 'utf8').trim().split(' ')[0]);
    process.kill(caissondPid, 'SIGTERM');
    assert.equal(await daemon.exited, 0);
    const flipped = spawnInside(systemd, [path.join(systemd.checkout, 'bin', 'caissond'), '--config', writeDaemonJson(systemd.workDir, { ...daemonConfig, 'systemd-cgroup': false })]);
    assert.equal(await flipped.exited, 1);
    assert.match(
      flipped.output(),
      new RegExp(`cgroup driver "cgroupfs" was chosen \\("systemd-cgroup": false in daemon.json\\), but the driver in use is "systemd" and 1 sandbox and 0 containers made under it still exist \\(${podId}\\)`),
    );
    await startDaemon(daemonConfig);
    await client.call('RemovePodSandbox', { pod_sandbox_id: podId });
  });
});

/** caissond in systemd's namespaces, shaped like spawnCaissond's result for waitUntilServing. */
function spawnInside(systemd: SystemdHarness, args: string[]): SpawnedDaemon {
  const child = systemd.spawnInside(process.execPath, args);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  return { child, output: () => output, exited };
}
