import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { CriClient } from '../../cli/cri-client';
import { busyboxBaseLayer, pushImage, type PushedImage } from '../support/images/image-builder';
import { BUSYBOX_CONFIG } from '../support/images/standard-images';
import { containerConfig, criLogLines, podConfig, runPod, startContainer, waitForExit } from '../support/pod-fixtures';
import type { TestRegistry } from '../support/registry/test-registry';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';
import { runProgram } from '../../core/host-programs/run-program';
import { useTestDaemons, type TestDaemon } from '../support/test-daemon';
import { startBusyboxRegistry } from '../support/busybox-registry';

// Pods and containers with real runc and conmon, images from a local docker-registry.

describe('pods and containers', function () {
  this.timeout(120_000);
  const daemons = useTestDaemons();
  let registry: TestRegistry;
  let busybox: PushedImage;
  let image: string;
  let logs: string;

  before(async () => ({ registry, image, busybox } = await startBusyboxRegistry()));
  after(async () => registry?.stop());
  beforeEach(() => (logs = makeTempRoot('podlogs')));
  afterEach(() => removeTempRoot(logs));

  const start = async (config: Record<string, unknown> = {}): Promise<{ d: TestDaemon; client: CriClient }> => {
    const d = await daemons.start({ config: { 'insecure-registries': [registry.host], ...config } });
    const client = d.client();
    await client.call('PullImage', { image: { image } });
    return { d, client };
  };

  it('runs a container that echoes and exits: CRI log lines, exit code, reason', async () => {
    const { client } = await start();
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const id = await startContainer(client, podId, pod, containerConfig('echo', image, ['sh', '-c', 'echo out; echo err >&2']));
    const status = await waitForExit(client, id);
    assert.equal(status.exit_code, 0);
    assert.equal(status.reason, 'Completed');
    assert.equal(status.image_ref, busybox.configDigest);
    assert.ok(BigInt(String(status.finished_at)) >= BigInt(String(status.started_at)) && BigInt(String(status.started_at)) >= BigInt(String(status.created_at)));
    assert.equal(status.log_path, path.join(logs, 'echo.log'));
    assert.deepEqual(criLogLines(path.join(logs, 'echo.log')).sort(), [['stderr', 'F', 'err'], ['stdout', 'F', 'out']]);
    await client.call('RemovePodSandbox', { pod_sandbox_id: podId });
    assert.deepEqual((await client.call('ListContainers', {})).containers, []);
    assert.deepEqual((await client.call('ListPodSandbox', {})).items, []);
  });

  /** The log's text with partial (P) lines joined to the line that completes them. */
  const output = (file: string): string =>
    criLogLines(file)
      .map(([, tag, text]) => (tag === 'P' ? text : `${text}\n`))
      .join('')
      .replace(/\n$/, '');

  it('stops a running container with its stop signal, or with SIGKILL after the timeout', async () => {
    const { client } = await start();
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const trapping = await startContainer(client, podId, pod, containerConfig('trapping', image, ['sh', '-c', "trap 'exit 7' TERM; echo ready; while true; do sleep 0.1; done"]));
    await waitForLog(path.join(logs, 'trapping.log'), 'ready');
    await client.call('StopContainer', { container_id: trapping, timeout: 10 });
    const trapped = (await client.call('ContainerStatus', { container_id: trapping })).status;
    assert.deepEqual([trapped?.state, trapped?.exit_code, trapped?.reason], ['CONTAINER_EXITED', 7, 'Error']);

    // sleep as PID 1 of its own PID namespace ignores SIGTERM: only SIGKILL ends it.
    const stubborn = await startContainer(client, podId, pod, containerConfig('stubborn', image, ['sleep', '300']));
    const started = Date.now();
    await client.call('StopContainer', { container_id: stubborn, timeout: 1 });
    const killed = (await client.call('ContainerStatus', { container_id: stubborn })).status;
    assert.deepEqual([killed?.state, killed?.exit_code], ['CONTAINER_EXITED', 137]);
    assert.ok(Date.now() - started >= 1000, 'waited for the timeout before SIGKILL');
    await client.call('StopContainer', { container_id: stubborn, timeout: 1 });
  });

  it('shares the pod network, IPC and UTS namespaces and the pod files between containers', async () => {
    const { client } = await start();
    const pod = podConfig(logs, { hostname: 'shared-host', dns_config: { servers: ['10.96.0.10'], searches: ['svc.cluster.local'], options: ['ndots:5'] } });
    const podId = await runPod(client, pod);
    const script = 'readlink /proc/self/ns/net; readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts; hostname; cat /etc/resolv.conf; cat /etc/hostname';
    const a = await startContainer(client, podId, pod, containerConfig('a', image, ['sh', '-c', script]));
    const b = await startContainer(client, podId, pod, containerConfig('b', image, ['sh', '-c', script]));
    await waitForExit(client, a);
    await waitForExit(client, b);
    const first = output(path.join(logs, 'a.log'));
    assert.equal(first, output(path.join(logs, 'b.log')));
    assert.match(first, /^net:\[\d+\]\nipc:\[\d+\]\nuts:\[\d+\]\nshared-host\nsearch svc.cluster.local\nnameserver 10.96.0.10\noptions ndots:5\nshared-host$/);
    assert.notEqual(first.split('\n')[0], `net:[${fs.statSync('/proc/self/ns/net').ino}]`, 'not the host network namespace');
  });

  it('shares one PID namespace when the pod asks for it', async () => {
    const { client } = await start();
    const pod = podConfig(logs, { linux: { security_context: { namespace_options: { network: 'POD', pid: 'POD', ipc: 'POD' } } } });
    const podId = await runPod(client, pod);
    const sleeper = await startContainer(client, podId, pod, containerConfig('sleeper', image, ['sleep', '300']));
    const looker = await startContainer(client, podId, pod, containerConfig('looker', image, ['ps']));
    await waitForExit(client, looker);
    assert.match(output(path.join(logs, 'looker.log')), /sleep 300/);
    await client.call('StopPodSandbox', { pod_sandbox_id: podId });
    assert.equal((await waitForExit(client, sleeper)).state, 'CONTAINER_EXITED');
    await client.call('StopPodSandbox', { pod_sandbox_id: podId });
    const { status } = await client.call('PodSandboxStatus', { pod_sandbox_id: podId });
    assert.equal(status?.state, 'SANDBOX_NOTREADY');
  });

  it('holds a shared PID namespace with the pause container when "pod-sandbox-image" is set', async () => {
    await pushImage(registry, { repository: 'pause', tags: ['3.9'], layers: [busyboxBaseLayer()], config: { ...BUSYBOX_CONFIG, Cmd: ['sleep', 'infinity'] } });
    const pauseImage = `${registry.host}/pause:3.9`;
    const { client, d } = await start({ 'pod-sandbox-image': pauseImage });
    const pod = podConfig(logs, { linux: { security_context: { namespace_options: { network: 'POD', pid: 'POD', ipc: 'POD' } } } });
    const podId = await runPod(client, pod);
    const looker = await startContainer(client, podId, pod, containerConfig('looker', image, ['ps', '-o', 'pid,args']));
    await waitForExit(client, looker);
    assert.match(output(path.join(logs, 'looker.log')), /^\s*1 sleep infinity$/m, 'the pause process is PID 1 of the pod');
    const pauseStatus = (await client.call('ImageStatus', { image: { image: pauseImage } })).image;
    assert.equal(pauseStatus?.pinned, true);
    await assert.rejects(client.call('RemoveImage', { image: { image: pauseImage } }), { code: grpc.status.FAILED_PRECONDITION });
    const runcRoot = path.join(d.root, 'run', 'runtimes', 'runc');
    assert.equal((await runProgram('runc', ['--root', runcRoot, 'list', '-q'])).stdout.trim().split('\n').length, 2, 'pause and looker');
    await client.call('StopPodSandbox', { pod_sandbox_id: podId });
    await client.call('RemovePodSandbox', { pod_sandbox_id: podId });
    assert.equal((await runProgram('runc', ['--root', runcRoot, 'list', '-q'])).stdout.trim(), '');
    await client.call('RemoveImage', { image: { image: pauseImage } });
  });

  it('uses the host network namespace for a host-network pod', async () => {
    const { client } = await start();
    const pod = podConfig(logs, { linux: { security_context: { namespace_options: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } } } });
    const podId = await runPod(client, pod);
    const id = await startContainer(client, podId, pod, containerConfig('hostnet', image, ['readlink', '/proc/self/ns/net']));
    await waitForExit(client, id);
    assert.equal(output(path.join(logs, 'hostnet.log')), `net:[${fs.statSync('/proc/self/ns/net').ino}]`);
  });

  it('applies sandbox sysctls in the pod namespaces and refuses node-wide ones', async () => {
    const { client, d } = await start();
    const pod = podConfig(logs, { linux: { sysctls: { 'net.ipv4.ip_unprivileged_port_start': '80' }, security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } } });
    const podId = await runPod(client, pod);
    const id = await startContainer(client, podId, pod, containerConfig('sysctl', image, ['cat', '/proc/sys/net/ipv4/ip_unprivileged_port_start']));
    await waitForExit(client, id);
    assert.equal(output(path.join(logs, 'sysctl.log')), '80');
    await assert.rejects(runPod(client, podConfig(logs, { linux: { sysctls: { 'kernel.panic': '1' } } })), {
      code: grpc.status.INVALID_ARGUMENT,
      details: 'sysctl "kernel.panic" is not namespaced; it cannot be set per pod',
    });
    assert.equal((await client.call('ListPodSandbox', {})).items?.length, 1, 'the refused pod left nothing');
    assert.equal(fs.readdirSync(path.join(d.root, 'run', 'sandboxes')).length, 1);
  });

  it('binds host paths read-write, read-only, and through symlinks', async () => {
    const { client } = await start();
    const host = makeTempRoot('mounts');
    try {
      fs.mkdirSync(path.join(host, 'data'));
      fs.writeFileSync(path.join(host, 'data', 'in.txt'), 'from host');
      fs.symlinkSync(path.join(host, 'data'), path.join(host, 'link'));
      const pod = podConfig(logs);
      const podId = await runPod(client, pod);
      const id = await startContainer(
        client,
        podId,
        pod,
        containerConfig('mounts', image, ['sh', '-c', 'cat /rw/in.txt; echo; echo written > /rw/out.txt; touch /ro/x 2>/dev/null || echo ro-refused; cat /via-link/in.txt'], {
          mounts: [
            { container_path: '/rw', host_path: path.join(host, 'data') },
            { container_path: '/ro', host_path: path.join(host, 'data'), readonly: true },
            { container_path: '/via-link', host_path: path.join(host, 'link'), readonly: true },
          ],
        }),
      );
      const status = await waitForExit(client, id);
      assert.equal(status.exit_code, 0);
      assert.equal(output(path.join(logs, 'mounts.log')), 'from host\nro-refused\nfrom host');
      assert.equal(fs.readFileSync(path.join(host, 'data', 'out.txt'), 'utf8'), 'written\n');
      assert.deepEqual(status.mounts?.map((m) => m.container_path), ['/rw', '/ro', '/via-link']);
    } finally {
      removeTempRoot(host);
    }
  });

  it('honours a read-only rootfs, run-as-user and group, and capability changes', async () => {
    const { client } = await start();
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const id = await startContainer(
      client,
      podId,
      pod,
      containerConfig('secure', image, ['sh', '-c', 'id -u; id -g; touch /x 2>/dev/null || echo rootfs-ro; grep CapEff /proc/self/status'], {
        linux: {
          security_context: {
            readonly_rootfs: true,
            run_as_user: { value: '1234' },
            run_as_group: { value: '2345' },
            capabilities: { drop_capabilities: ['ALL'], add_capabilities: ['NET_BIND_SERVICE'] },
          },
        },
      }),
    );
    await waitForExit(client, id);
    assert.equal(output(path.join(logs, 'secure.log')), '1234\n2345\nrootfs-ro\nCapEff:\t0000000000000000');
    const root = await startContainer(client, podId, pod, containerConfig('caps', image, ['grep', 'CapBnd', '/proc/self/status'], {
      linux: { security_context: { capabilities: { drop_capabilities: ['ALL'], add_capabilities: ['NET_BIND_SERVICE'] } } },
    }));
    await waitForExit(client, root);
    assert.equal(output(path.join(logs, 'caps.log')), 'CapBnd:\t0000000000000400', 'only CAP_NET_BIND_SERVICE (bit 10)');
  });

  it('masks and write-protects the default /proc and /sys paths, and not for a privileged container', async () => {
    // /proc/timer_list exists on this host and is not empty; masked, it reads as /dev/null.
    assert.ok(fs.readFileSync('/proc/timer_list').length > 0);
    const { client } = await start();
    const script = 'wc -c < /proc/timer_list; (echo 1 > /proc/sys/vm/overcommit_memory) 2>/dev/null && echo sys-writable || echo sys-ro';
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const id = await startContainer(client, podId, pod, containerConfig('masked', image, ['sh', '-c', script]));
    await waitForExit(client, id);
    assert.equal(output(path.join(logs, 'masked.log')).replace(/ +/g, ''), '0\nsys-ro');

    const privilegedPod = podConfig(logs, { linux: { security_context: { privileged: true, namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } } });
    const privilegedPodId = await runPod(client, privilegedPod);
    const open = await startContainer(client, privilegedPodId, privilegedPod, containerConfig('unmasked', image, ['sh', '-c', 'wc -c < /proc/timer_list'], {
      linux: { security_context: { privileged: true } },
    }));
    await waitForExit(client, open);
    assert.notEqual(output(path.join(logs, 'unmasked.log')).trim(), '0');
  });

  it('puts a memory limit in the container cgroup', async () => {
    const { client } = await start();
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const id = await startContainer(client, podId, pod, containerConfig('limited', image, ['sleep', '300'], {
      linux: { resources: { memory_limit_in_bytes: String(64 * 1024 * 1024), cpu_shares: '512' } },
    }));
    const { info } = await client.call('ContainerStatus', { container_id: id, verbose: true });
    const cgroupsPath = JSON.parse(info?.['info'] ?? '{}').cgroupsPath as string;
    assert.ok(cgroupsPath.endsWith(`/${id}`));
    assert.equal(fs.readFileSync(`/sys/fs/cgroup/memory${cgroupsPath}/memory.limit_in_bytes`, 'utf8').trim(), String(64 * 1024 * 1024));
    assert.equal(fs.readFileSync(`/sys/fs/cgroup/cpu${cgroupsPath}/cpu.shares`, 'utf8').trim(), '512');
    await client.call('RemovePodSandbox', { pod_sandbox_id: podId });
    assert.equal(fs.existsSync(`/sys/fs/cgroup/memory${cgroupsPath}`), false, 'the cgroup is gone with the container');
  });

  it('runs a pod on a second runtime handler mapped by "cri-runtimes"', async () => {
    const { client, d } = await start({
      runtimes: { 'runc-debug': { path: 'runc', 'runtime-args': ['--debug'] } },
      'cri-runtimes': { debug: 'runc-debug' },
    });
    const pod = podConfig(logs);
    const podId = await runPod(client, pod, 'debug');
    const { status } = await client.call('PodSandboxStatus', { pod_sandbox_id: podId });
    assert.equal(status?.runtime_handler, 'debug');
    const id = await startContainer(client, podId, pod, containerConfig('debugged', image, ['sleep', '300']));
    const { stdout } = await runProgram('runc', ['--root', path.join(d.root, 'run', 'runtimes', 'runc-debug'), 'list', '-q']);
    assert.deepEqual(stdout.trim().split('\n'), [id]);
    await assert.rejects(runPod(client, podConfig(logs), 'nope'), { code: grpc.status.INVALID_ARGUMENT });
  });

  it('answers bad input with the right status, and leaves nothing half-made', async () => {
    const { client, d } = await start();
    await assert.rejects(client.call('ContainerStatus', { container_id: 'nosuch' }), { code: grpc.status.NOT_FOUND, details: 'container nosuch not found' });
    await assert.rejects(client.call('StartContainer', { container_id: 'nosuch' }), { code: grpc.status.NOT_FOUND });
    await assert.rejects(client.call('PodSandboxStatus', { pod_sandbox_id: 'nosuch' }), { code: grpc.status.NOT_FOUND, details: 'sandbox nosuch not found' });
    await client.call('RemoveContainer', { container_id: 'nosuch' });
    await client.call('RemovePodSandbox', { pod_sandbox_id: 'nosuch' });

    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    await assert.rejects(runPod(client, pod), (error: grpc.ServiceError) => error.code === grpc.status.ALREADY_EXISTS);
    await assert.rejects(client.call('CreateContainer', { pod_sandbox_id: podId, config: containerConfig('esc', image, ['true'], { log_path: '../escape.log' }), sandbox_config: pod }), {
      code: grpc.status.INVALID_ARGUMENT,
      details: `log path "../escape.log" of container "esc" escapes the sandbox's log directory ${logs}`,
    });
    await assert.rejects(client.call('CreateContainer', { pod_sandbox_id: podId, config: containerConfig('rel', image, ['true'], { mounts: [{ container_path: '/m', host_path: 'relative/dir' }] }), sandbox_config: pod }), (error: grpc.ServiceError) => {
      assert.equal(error.code, grpc.status.INVALID_ARGUMENT);
      assert.match(error.details, /relative\/dir/);
      return true;
    });
    await assert.rejects(client.call('CreateContainer', { pod_sandbox_id: podId, config: containerConfig('noimg', `${registry.host}/missing:latest`, ['true']), sandbox_config: pod }), {
      code: grpc.status.NOT_FOUND,
      details: `image "${registry.host}/missing:latest" for container "noimg" is not present; pull it first`,
    });
    assert.deepEqual((await client.call('ListContainers', {})).containers, []);
    assert.deepEqual(fs.readdirSync(path.join(d.root, 'run', 'containers')), []);
    assert.equal(fs.readFileSync('/proc/self/mounts', 'utf8').includes(path.join(d.root, 'run', 'containers')), false, 'no rootfs left mounted');

    const first = await startContainer(client, podId, pod, containerConfig('twice', image, ['true']));
    await assert.rejects(client.call('CreateContainer', { pod_sandbox_id: podId, config: containerConfig('twice', image, ['true']), sandbox_config: pod }), (error: grpc.ServiceError) => {
      assert.equal(error.code, grpc.status.ALREADY_EXISTS);
      assert.match(error.details, new RegExp(`already used by container ${first}`));
      return true;
    });
    await client.call('StopPodSandbox', { pod_sandbox_id: podId });
    await assert.rejects(client.call('CreateContainer', { pod_sandbox_id: podId, config: containerConfig('late', image, ['true']), sandbox_config: pod }), {
      code: grpc.status.FAILED_PRECONDITION,
      details: `sandbox ${podId} is not ready (it was stopped); a container cannot be created in it`,
    });
  });

  it('filters pod and container lists by id prefix, state, labels and pod', async () => {
    const { client } = await start();
    const podA = podConfig(logs, { labels: { app: 'a' } });
    const podB = podConfig(logs, { labels: { app: 'b' } });
    const a = await runPod(client, podA);
    const b = await runPod(client, podB);
    await client.call('StopPodSandbox', { pod_sandbox_id: b });
    const ids = async (filter: object) => ((await client.call('ListPodSandbox', { filter })).items ?? []).map((i) => i.id);
    assert.deepEqual(await ids({ label_selector: { app: 'a' } }), [a]);
    assert.deepEqual(await ids({ state: { state: 'SANDBOX_NOTREADY' } }), [b]);
    assert.deepEqual(await ids({ id: a.slice(0, 12) }), [a]);
    const running = await startContainer(client, a, podA, containerConfig('runner', image, ['sleep', '300']));
    const created = String((await client.call('CreateContainer', { pod_sandbox_id: a, config: containerConfig('waiting', image, ['true']), sandbox_config: podA })).container_id);
    const cids = async (filter: object) => ((await client.call('ListContainers', { filter })).containers ?? []).map((c) => c.id).sort();
    assert.deepEqual(await cids({ state: { state: 'CONTAINER_RUNNING' } }), [running]);
    assert.deepEqual(await cids({ state: { state: 'CONTAINER_CREATED' } }), [created]);
    assert.deepEqual(await cids({ pod_sandbox_id: a }), [running, created].sort());
    assert.deepEqual(await cids({ pod_sandbox_id: a.slice(0, 10) }), [running, created].sort());
    assert.deepEqual(await cids({ pod_sandbox_id: b }), []);
    assert.deepEqual(await cids({ label_selector: { container: 'waiting' } }), [created]);
    const { status, containers_statuses } = await client.call('PodSandboxStatus', { pod_sandbox_id: a });
    assert.equal(status?.state, 'SANDBOX_READY');
    assert.equal(containers_statuses?.length, 2);
  });

  it('keeps containers running across a daemon restart (conmon outlives the daemon)', async () => {
    const first = await start();
    const pod = podConfig(logs);
    const podId = await runPod(first.client, pod);
    const id = await startContainer(first.client, podId, pod, containerConfig('survivor', image, ['sh', '-c', "trap 'exit 3' TERM; while true; do sleep 0.1; done"]));
    await first.d.daemon.stop();
    const second = await daemons.start({ root: first.d.root, config: { 'insecure-registries': [registry.host] } });
    const client = second.client();
    assert.equal((await client.call('ContainerStatus', { container_id: id })).status?.state, 'CONTAINER_RUNNING');
    await client.call('StopContainer', { container_id: id, timeout: 10 });
    const status = (await client.call('ContainerStatus', { container_id: id })).status;
    assert.deepEqual([status?.state, status?.exit_code], ['CONTAINER_EXITED', 3]);
  });

  it('reopens the log file after the kubelet rotates it', async () => {
    const { client } = await start();
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const id = await startContainer(client, podId, pod, containerConfig('chatty', image, ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo line $i; sleep 0.05; done']));
    const log = path.join(logs, 'chatty.log');
    await waitForLog(log, 'line 2');
    fs.renameSync(log, `${log}.1`);
    await client.call('ReopenContainerLog', { container_id: id });
    await waitForLog(log, 'line');
    assert.ok(criLogLines(`${log}.1`).length >= 2);
    await client.call('StopContainer', { container_id: id, timeout: 0 });
    await assert.rejects(client.call('ReopenContainerLog', { container_id: id }), { code: grpc.status.FAILED_PRECONDITION });
  });
});

async function waitForLog(file: string, text: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (fs.existsSync(file) && fs.readFileSync(file, 'utf8').includes(text)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`"${text}" did not appear in ${file} within ${timeoutMs} ms`);
}
