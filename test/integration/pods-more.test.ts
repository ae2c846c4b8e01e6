import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { CriClient } from '../../cli/cri-client';
import { busyboxBaseLayer, pushImage } from '../support/images/image-builder';
import { BUSYBOX_CONFIG } from '../support/images/standard-images';
import { containerConfig, criLogLines, podConfig, runPod, startContainer, waitForExit } from '../support/pod-fixtures';
import { startTestRegistry, type TestRegistry } from '../support/registry/test-registry';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';
import { useTestDaemons, type TestDaemon } from '../support/test-daemon';

// More pods and containers with real runc and conmon (pods.test.ts has the basics): the kubelet's
// cgroup parents and daemon.json's, host PID and IPC namespaces, the pod's /dev/shm and
// /etc/hosts, the image's stop signal, the log size limit, seccomp, privileged containers,
// oom_score_adj and users named in the image.

const CGROUP_ROOT = '/sys/fs/cgroup';

describe('pods and containers, more', function () {
  this.timeout(120_000);
  const daemons = useTestDaemons();
  // Registered after useTestDaemons(), so it runs after the daemons' teardown removed the pods
  // (and with them every container cgroup): only the parents the test itself owns are left.
  const cgroupCleanups: (() => string[])[] = [];
  afterEach(() => {
    const failures = cgroupCleanups.splice(0).flatMap((cleanup) => cleanup());
    if (failures.length > 0) throw new Error(`cgroups left behind: ${failures.join('; ')}`);
  });
  let registry: TestRegistry;
  let image: string;
  let usr1Image: string;
  let logs: string;

  before(async () => {
    registry = await startTestRegistry();
    await pushImage(registry, { repository: 'busybox', tags: ['latest'], layers: [busyboxBaseLayer()], config: BUSYBOX_CONFIG });
    await pushImage(registry, { repository: 'busybox-usr1', tags: ['latest'], layers: [busyboxBaseLayer()], config: { ...BUSYBOX_CONFIG, StopSignal: 'SIGUSR1' } });
    image = `${registry.host}/busybox:latest`;
    usr1Image = `${registry.host}/busybox-usr1:latest`;
  });
  after(async () => registry?.stop());
  beforeEach(() => (logs = makeTempRoot('podlogs')));
  afterEach(() => removeTempRoot(logs));

  const start = async (config: Record<string, unknown> = {}): Promise<{ d: TestDaemon; client: CriClient }> => {
    const d = await daemons.start({ config: { 'insecure-registries': [registry.host], ...config } });
    const client = d.client();
    await client.call('PullImage', { image: { image } });
    return { d, client };
  };

  /** The log's text with partial (P) lines joined to the line that completes them. */
  const output = (file: string): string =>
    criLogLines(file)
      .map(([, tag, text]) => (tag === 'P' ? text : `${text}\n`))
      .join('')
      .replace(/\n$/, '');

  /** Runs a container to its end and returns its output (the exit code must be 0). */
  const run = async (client: CriClient, podId: string, pod: Record<string, unknown>, name: string, command: string[], overrides: Record<string, unknown> = {}): Promise<string> =>
    (await runWithId(client, podId, pod, name, command, overrides)).text;

  const runWithId = async (client: CriClient, podId: string, pod: Record<string, unknown>, name: string, command: string[], overrides: Record<string, unknown> = {}) => {
    const id = await startContainer(client, podId, pod, containerConfig(name, image, command, overrides));
    const status = await waitForExit(client, id);
    const text = output(path.join(logs, `${name}.log`));
    assert.equal(status.exit_code, 0, `container ${name} exited ${status.exit_code}: ${text}`);
    return { id, text };
  };

  const cgroupsPathOf = async (client: CriClient, id: string): Promise<string> => {
    const { info } = await client.call('ContainerStatus', { container_id: id, verbose: true });
    return JSON.parse(info?.['info'] ?? '{}').cgroupsPath as string;
  };

  /** A refused CreateContainer left nothing: no container, no state directory, no rootfs mount (beyond the pod's `kept` containers). */
  const assertNothingLeft = async (client: CriClient, d: TestDaemon, podId: string, kept: string[] = []): Promise<void> => {
    assert.deepEqual(((await client.call('ListContainers', { filter: { pod_sandbox_id: podId } })).containers ?? []).map((c) => c.id).sort(), [...kept].sort());
    assert.deepEqual(fs.readdirSync(path.join(d.root, 'run', 'containers')).sort(), [...kept].sort());
    const rootfsMounts = fs
      .readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[1] ?? '')
      .filter((mountpoint) => mountpoint.startsWith(path.join(d.root, 'run', 'containers')));
    assert.deepEqual(rootfsMounts, kept.map((id) => path.join(d.root, 'run', 'containers', id, 'rootfs')), 'no rootfs left mounted');
  };

  const podNamespaces = (options: Record<string, string>) => ({ linux: { security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD', ...options } } } });

  describe('cgroup parents', () => {
    it('puts containers under the kubelet\'s cgroup parent, and leaves that parent to the kubelet', async () => {
      const parent = `/kubepods/burstable/pod${crypto.randomUUID()}`;
      cgroupCleanups.push(removeCgroupsMadeDuringTest(['/kubepods', '/kubepods/burstable', parent]));
      const { client } = await start();
      const pod = podConfig(logs, { linux: { cgroup_parent: parent, security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } } });
      const podId = await runPod(client, pod);
      const id = await startContainer(client, podId, pod, containerConfig('kubelet-child', image, ['sleep', '300']));
      const cgroupsPath = await cgroupsPathOf(client, id);
      assert.equal(cgroupsPath, `${parent}/${id}`);
      assert.ok(fs.existsSync(memoryCgroup(cgroupsPath)), `${memoryCgroup(cgroupsPath)} exists while the container runs`);
      assert.match(fs.readFileSync(path.join(memoryCgroup(cgroupsPath), 'cgroup.procs'), 'utf8'), /^\d+$/m, 'the container runs in it');

      await client.call('RemovePodSandbox', { pod_sandbox_id: podId });
      for (const hierarchy of cgroupHierarchies()) assert.equal(fs.existsSync(path.join(hierarchy, cgroupsPath)), false, `${hierarchy}${cgroupsPath} is gone with the container`);
      assert.ok(fs.existsSync(memoryCgroup(parent)), 'the kubelet-owned pod cgroup is not removed by Caisson');
    });

    it('refuses a systemd slice as cgroup parent on the cgroupfs driver', async () => {
      const { client } = await start();
      const slice = 'kubepods-burstable-pod1234.slice';
      await assert.rejects(runPod(client, podConfig(logs, { linux: { cgroup_parent: slice, security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } } })), {
        code: grpc.status.INVALID_ARGUMENT,
        details: `cgroup parent "${slice}" of the sandbox is a systemd slice, but this daemon uses the cgroupfs driver ("systemd-cgroup": false); kubelet and caissond must use the same cgroup driver`,
      });
      assert.deepEqual((await client.call('ListPodSandbox', {})).items, []);
    });

    it('puts a pod without cgroup_parent under daemon.json "cgroup-parent", and removes the pod cgroup it made', async () => {
      const parent = '/caisson-test-parent';
      cgroupCleanups.push(removeCgroupsMadeDuringTest([parent]));
      const { client } = await start({ 'cgroup-parent': parent });
      const pod = podConfig(logs);
      const podId = await runPod(client, pod);
      const id = await startContainer(client, podId, pod, containerConfig('parented', image, ['sleep', '300']));
      const cgroupsPath = await cgroupsPathOf(client, id);
      assert.equal(cgroupsPath, `${parent}/${podId}/${id}`);
      assert.ok(fs.existsSync(memoryCgroup(cgroupsPath)), `${memoryCgroup(cgroupsPath)} exists while the container runs`);

      await client.call('RemovePodSandbox', { pod_sandbox_id: podId });
      const left = cgroupHierarchies()
        .map((hierarchy) => path.join(hierarchy, parent, podId))
        .filter((dir) => fs.existsSync(dir));
      assert.deepEqual(left, [], 'the pod cgroup Caisson made is removed in every hierarchy');
    });
  });

  it('uses the host PID and IPC namespaces when the pod and container ask for NODE', async () => {
    const { client } = await start();
    const hostNamespaces = { network: 'POD', pid: 'NODE', ipc: 'NODE' };
    const pod = podConfig(logs, podNamespaces(hostNamespaces));
    const podId = await runPod(client, pod);
    const text = await run(client, podId, pod, 'hostpid', ['sh', '-c', `readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc; [ -d /proc/${process.pid} ] && echo sees-daemon`], {
      linux: { security_context: { namespace_options: hostNamespaces } },
    });
    assert.equal(text, `pid:[${fs.statSync('/proc/self/ns/pid').ino}]\nipc:[${fs.statSync('/proc/self/ns/ipc').ino}]\nsees-daemon`);
  });

  it('shares /dev/shm between the containers of one pod, not with other pods', async () => {
    const { client } = await start();
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    await run(client, podId, pod, 'writer', ['sh', '-c', 'echo shared-data > /dev/shm/x']);
    assert.equal(await run(client, podId, pod, 'reader', ['cat', '/dev/shm/x']), 'shared-data');
    const other = podConfig(logs);
    const otherId = await runPod(client, other);
    assert.equal(await run(client, otherId, other, 'stranger', ['sh', '-c', 'if [ -e /dev/shm/x ]; then echo seen; else echo absent; fi']), 'absent');
  });

  it("stops a container with the image's StopSignal", async () => {
    const { client } = await start();
    await client.call('PullImage', { image: { image: usr1Image } });
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const id = await startContainer(client, podId, pod, containerConfig('usr1', usr1Image, ['sh', '-c', "trap 'exit 9' USR1; trap '' TERM; echo ready; while true; do sleep 0.1; done"]));
    await waitForLog(path.join(logs, 'usr1.log'), 'ready');
    const started = Date.now();
    await client.call('StopContainer', { container_id: id, timeout: 10 });
    const elapsed = Date.now() - started;
    const status = (await client.call('ContainerStatus', { container_id: id })).status;
    assert.deepEqual([status?.state, status?.exit_code], ['CONTAINER_EXITED', 9]);
    assert.ok(elapsed < 5_000, `SIGUSR1 ended it at once (took ${elapsed} ms), no wait for SIGKILL`);
  });

  it('writes /etc/hosts for a pod, and gives a host-network pod the host\'s', async () => {
    const { client } = await start();
    const pod = podConfig(logs, { hostname: 'hosts-pod' });
    const podId = await runPod(client, pod);
    const lines = (await run(client, podId, pod, 'hosts', ['cat', '/etc/hosts'])).split('\n');
    assert.ok(lines.includes('127.0.0.1\tlocalhost'), lines.join('\n'));
    assert.ok(lines.includes('127.0.1.1\thosts-pod'), lines.join('\n'));

    const hostPod = podConfig(logs, { hostname: '', ...podNamespaces({ network: 'NODE' }) });
    const hostPodId = await runPod(client, hostPod);
    assert.equal(await run(client, hostPodId, hostPod, 'hosthosts', ['cat', '/etc/hosts']), fs.readFileSync('/etc/hosts', 'utf8').replace(/\n$/, ''));
  });

  it('keeps a container log under daemon.json "container-log" max-size', async () => {
    const { client } = await start({ 'container-log': { opts: { 'max-size': '1KB' } } });
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    // 500 lines of 50 characters ("line NNN " and 41 x's): about 48 KB of CRI log lines.
    const line = (n: number) => `line ${String(n).padStart(3, '0')} ${'x'.repeat(41)}`;
    const script = `i=0; while [ $i -lt 500 ]; do printf 'line %03d %s\\n' $i ${'x'.repeat(41)}; i=$((i+1)); done`;
    const id = await startContainer(client, podId, pod, containerConfig('big', image, ['sh', '-c', script]));
    assert.equal((await waitForExit(client, id)).exit_code, 0);
    const file = path.join(logs, 'big.log');
    const size = fs.statSync(file).size;
    // conmon (k8s-file, --log-size-max 1000) starts the file afresh whenever the next CRI line
    // would take it past the limit: the file holds only the lines written since the last restart,
    // never more than the limit, and the first of them may be the tail of a line whose head (a
    // P line from an earlier read of the pipe) went with the old file.
    assert.ok(size > 0 && size <= 1000, `the log is ${size} bytes (limit 1KB = 1000 bytes)`);
    const texts = output(file).split('\n');
    const last = texts.at(-1) ?? '';
    assert.ok(last !== '' && line(499).endsWith(last), `the file ends with (the tail of) the last line written, not ${JSON.stringify(last)}`);
    const whole = texts.slice(1);
    const first = 500 - whole.length;
    assert.deepEqual(whole, Array.from({ length: whole.length }, (_, i) => line(first + i)), 'the newest lines, in order');
    assert.ok(line(first - 1).endsWith(texts[0] ?? ''), `the oldest kept text ${JSON.stringify(texts[0])} is (the tail of) the line before`);
  });

  describe('seccomp', () => {
    const script = ['sh', '-c', 'echo ok; cat /proc/self/status | grep Seccomp'];
    const seccompLine = (text: string) => text.split('\n').filter((line) => line.startsWith('Seccomp:'));

    it('filters with RuntimeDefault, not with Unconfined, and loads a Localhost profile', async () => {
      const { client } = await start();
      const pod = podConfig(logs);
      const podId = await runPod(client, pod);
      const filtered = await run(client, podId, pod, 'default', script, { linux: { security_context: { seccomp: { profile_type: 'RuntimeDefault' } } } });
      assert.equal(filtered.split('\n')[0], 'ok');
      assert.deepEqual(seccompLine(filtered), ['Seccomp:\t2']);
      const open = await run(client, podId, pod, 'unconfined', script, { linux: { security_context: { seccomp: { profile_type: 'Unconfined' } } } });
      assert.equal(open.split('\n')[0], 'ok');
      assert.deepEqual(seccompLine(open), ['Seccomp:\t0']);

      const profiles = makeTempRoot('seccomp');
      try {
        const profile = path.join(profiles, 'no-mkdir.json');
        fs.writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }));
        const local = await run(client, podId, pod, 'localhost', ['sh', '-c', 'mkdir /tmp/d 2>/dev/null || echo mkdir-refused; grep ^Seccomp: /proc/self/status'], {
          linux: { security_context: { seccomp: { profile_type: 'Localhost', localhost_ref: profile } } },
        });
        assert.equal(local, 'mkdir-refused\nSeccomp:\t2');
      } finally {
        removeTempRoot(profiles);
      }
    });

    it('refuses a Localhost profile that does not exist, and leaves nothing', async () => {
      const { client, d } = await start();
      const pod = podConfig(logs);
      const podId = await runPod(client, pod);
      const missing = '/nonexistent/caisson-test-seccomp.json';
      const refused = await client
        .call('CreateContainer', {
          pod_sandbox_id: podId,
          config: containerConfig('badprofile', image, ['true'], { linux: { security_context: { seccomp: { profile_type: 'Localhost', localhost_ref: missing } } } }),
          sandbox_config: pod,
        })
        .then(
          () => assert.fail('CreateContainer accepted a missing seccomp profile'),
          (error: grpc.ServiceError) => error,
        );
      await assertNothingLeft(client, d, podId);
      assert.equal(refused.code, grpc.status.INVALID_ARGUMENT);
      // As the spec builder's unit test has it: the cause once, after the profile's path. (Fails
      // while core/containers/host-facts.ts wraps the cause in the same sentence the builder adds.)
      assert.equal(refused.details, `container "badprofile": seccomp profile ${missing} cannot be loaded: ENOENT: no such file or directory, open '${missing}'`);
    });
  });

  describe('privileged containers', () => {
    it('gives a privileged container of a privileged pod every capability the daemon has, and the host devices', async () => {
      const { client } = await start();
      const pod = podConfig(logs, { linux: { security_context: { privileged: true, namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } } });
      const podId = await runPod(client, pod);
      const devices = ['kmsg', 'loop-control'];
      const script = `grep CapEff /proc/self/status; for d in ${devices.join(' ')}; do [ -e /dev/$d ] && echo dev-$d; done; true`;
      const text = await run(client, podId, pod, 'priv', ['sh', '-c', script], { linux: { security_context: { privileged: true } } });
      const bounding = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1];
      const expectedDevices = devices.filter((d) => fs.existsSync(`/dev/${d}`)).map((d) => `dev-${d}`);
      assert.ok(expectedDevices.length > 0, 'the host has /dev/kmsg or /dev/loop-control');
      assert.equal(text, [`CapEff:\t${bounding}`, ...expectedDevices].join('\n'));

      const plain = await run(client, podId, pod, 'plain', ['sh', '-c', script]);
      assert.equal(plain.split('\n').some((line) => line.startsWith('dev-')), false, 'an unprivileged container of the same pod sees no host devices');
    });

    it('refuses a privileged container in a pod that is not privileged', async () => {
      const { client, d } = await start();
      const pod = podConfig(logs);
      const podId = await runPod(client, pod);
      await assert.rejects(
        client.call('CreateContainer', { pod_sandbox_id: podId, config: containerConfig('sneaky', image, ['true'], { linux: { security_context: { privileged: true } } }), sandbox_config: pod }),
        {
          code: grpc.status.INVALID_ARGUMENT,
          details: `container "sneaky": privileged container in a sandbox that is not privileged (the pod sandbox's security_context.privileged must be true)`,
        },
      );
      await assertNothingLeft(client, d, podId);
    });
  });

  it("raises a negative oom_score_adj to the daemon's own, and keeps a positive one", async () => {
    const { client } = await start();
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const own = Number(fs.readFileSync('/proc/self/oom_score_adj', 'utf8').trim());
    const low = await run(client, podId, pod, 'low', ['cat', '/proc/self/oom_score_adj'], { linux: { resources: { oom_score_adj: '-500' } } });
    assert.equal(low, String(Math.max(-500, own)));
    const high = await run(client, podId, pod, 'high', ['cat', '/proc/self/oom_score_adj'], { linux: { resources: { oom_score_adj: '500' } } });
    assert.equal(high, '500');
  });

  it("runs as a user named in the image's /etc/passwd, with its groups, and refuses an unknown name", async () => {
    const { client, d } = await start();
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const { id, text } = await runWithId(client, podId, pod, 'named', ['sh', '-c', 'id; id -G'], { linux: { security_context: { run_as_username: 'app' } } });
    const [idLine = '', gids = ''] = text.split('\n');
    assert.match(idLine, /^uid=1234\(app\) gid=1234\(app\) groups=/);
    assert.ok(gids.split(' ').includes('2000'), `supplementary group extra (2000) in "${gids}"`);

    await assert.rejects(
      client.call('CreateContainer', { pod_sandbox_id: podId, config: containerConfig('ghost', image, ['id'], { linux: { security_context: { run_as_username: 'ghost' } } }), sandbox_config: pod }),
      { code: grpc.status.INVALID_ARGUMENT, details: `container "ghost": run_as_username "ghost" is not a user in the image's /etc/passwd` },
    );
    await assertNothingLeft(client, d, podId, [id]);
  });
});

/** Every mounted cgroup hierarchy: /sys/fs/cgroup itself on v2, one per controller (and unified/) on v1. */
function cgroupHierarchies(): string[] {
  const dirs = new Set<string>();
  for (const line of fs.readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
    const [, mountpoint, type] = line.split(' ');
    if ((type === 'cgroup' || type === 'cgroup2') && mountpoint && (mountpoint === CGROUP_ROOT || mountpoint.startsWith(`${CGROUP_ROOT}/`))) dirs.add(mountpoint);
  }
  return [...dirs];
}

/** A cgroup's directory in the memory controller's hierarchy. */
function memoryCgroup(cgroupPath: string): string {
  return fs.existsSync(path.join(CGROUP_ROOT, 'cgroup.controllers')) ? path.join(CGROUP_ROOT, cgroupPath) : path.join(CGROUP_ROOT, 'memory', cgroupPath);
}

/**
 * Notes which of these cgroups do not exist yet in any hierarchy; the returned function removes
 * those (deepest first) and answers what it could not remove. Directories that were there
 * before the test are left alone.
 */
function removeCgroupsMadeDuringTest(cgroupPaths: string[]): () => string[] {
  const absent = cgroupHierarchies()
    .flatMap((hierarchy) => cgroupPaths.map((p) => path.join(hierarchy, p)))
    .filter((dir) => !fs.existsSync(dir));
  return () => {
    const failures: string[] = [];
    for (const dir of absent.sort((a, b) => b.length - a.length)) {
      try {
        fs.rmdirSync(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') failures.push(`${dir}: ${(error as Error).message}`);
      }
    }
    return failures;
  };
}

async function waitForLog(file: string, text: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (fs.existsSync(file) && fs.readFileSync(file, 'utf8').includes(text)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`"${text}" did not appear in ${file} within ${timeoutMs} ms`);
}
