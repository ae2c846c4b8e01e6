import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { packageInfo } from '../../core/package-info';
import * as grpc from '@grpc/grpc-js';
import type { CriClient } from '../../cli/cri-client';
import { detectCgroupMode } from '../../core/cgroup/cgroup-mode';
import { containerConfig, podConfig, runPod, startContainer, waitForExit } from '../support/pod-fixtures';
import type { TestRegistry } from '../support/registry/test-registry';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';
import { useTestDaemons } from '../support/test-daemon';
import { startBusyboxRegistry } from '../support/busybox-registry';

// Memory limits that bite (OOMKilled, every time) and limits changed on a running container.

describe('container resources', function () {
  this.timeout(180_000);
  const daemons = useTestDaemons();
  let registry: TestRegistry;
  let image: string;
  let logs: string;

  before(async () => ({ registry, image } = await startBusyboxRegistry()));
  after(async () => registry?.stop());
  beforeEach(() => (logs = makeTempRoot('reslogs')));
  afterEach(() => removeTempRoot(logs));

  const start = async (): Promise<CriClient> => {
    const d = await daemons.start({ config: { 'insecure-registries': [registry.host] } });
    const client = d.client();
    await client.call('PullImage', { image: { image } });
    return client;
  };
  const cgroupsPathOf = async (client: CriClient, id: string): Promise<string> =>
    JSON.parse((await client.call('ContainerStatus', { container_id: id, verbose: true })).info?.['info'] ?? '{}').cgroupsPath as string;

  it('reports OOMKilled with exit code 137 for a container past its memory limit, every time', async () => {
    const client = await start();
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const limit = String(32 * 1024 * 1024);
    for (let run = 0; run < 10; run++) {
      // The shell holds 64 MiB of command output in memory: twice the limit.
      const id = await startContainer(client, podId, pod, containerConfig(`hog-${run}`, image, ['sh', '-c', 'x=$(head -c 67108864 /dev/zero | tr "\\0" a); echo survived'], {
        linux: { resources: { memory_limit_in_bytes: limit, memory_swap_limit_in_bytes: limit } },
      }));
      const status = await waitForExit(client, id);
      assert.deepEqual([status.reason, status.exit_code], ['OOMKilled', 137], `run ${run}`);
      await client.call('RemoveContainer', { container_id: id });
    }
  });

  it('does not call an ordinary failure OOMKilled', async () => {
    const client = await start();
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const id = await startContainer(client, podId, pod, containerConfig('fails', image, ['sh', '-c', 'exit 137'], {
      linux: { resources: { memory_limit_in_bytes: String(32 * 1024 * 1024) } },
    }));
    const status = await waitForExit(client, id);
    assert.deepEqual([status.reason, status.exit_code], ['Error', 137]);
  });

  it('raises the memory limit and CPU shares of a running container, in the cgroup and in its status', async () => {
    const client = await start();
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const id = await startContainer(client, podId, pod, containerConfig('growing', image, ['sleep', '300'], {
      linux: { resources: { memory_limit_in_bytes: String(32 * 1024 * 1024), cpu_shares: '256' } },
    }));
    const cgroupsPath = await cgroupsPathOf(client, id);
    const memoryFile = `/sys/fs/cgroup/memory${cgroupsPath}/memory.limit_in_bytes`;
    assert.equal(fs.readFileSync(memoryFile, 'utf8').trim(), String(32 * 1024 * 1024));
    await client.call('UpdateContainerResources', { container_id: id, linux: { memory_limit_in_bytes: String(96 * 1024 * 1024), cpu_shares: '768', cpuset_cpus: '0' } });
    assert.equal(fs.readFileSync(memoryFile, 'utf8').trim(), String(96 * 1024 * 1024));
    assert.equal(fs.readFileSync(`/sys/fs/cgroup/cpu${cgroupsPath}/cpu.shares`, 'utf8').trim(), '768');
    assert.equal(fs.readFileSync(`/sys/fs/cgroup/cpuset${cgroupsPath}/cpuset.cpus`, 'utf8').trim(), '0');
    const { status } = await client.call('ContainerStatus', { container_id: id });
    assert.equal(status?.resources?.linux?.memory_limit_in_bytes, String(96 * 1024 * 1024));
    assert.equal(status?.resources?.linux?.cpu_shares, '768');
    await client.call('UpdateContainerResources', { container_id: id, linux: { memory_limit_in_bytes: String(128 * 1024 * 1024) } });
    const after = (await client.call('ContainerStatus', { container_id: id })).status?.resources?.linux;
    assert.deepEqual([after?.memory_limit_in_bytes, after?.cpu_shares], [String(128 * 1024 * 1024), '768'], 'fields an update leaves out keep their values');
    assert.equal(fs.readFileSync(`/sys/fs/cgroup/cpu${cgroupsPath}/cpu.shares`, 'utf8').trim(), '768');

    const mode = detectCgroupMode();
    if (mode !== 'v2') {
      await assert.rejects(client.call('UpdateContainerResources', { container_id: id, linux: { unified: { 'memory.high': '1000000' } } }), {
        code: grpc.status.INVALID_ARGUMENT,
        details: `container ${id}: unified cgroup resources (memory.high) need cgroup v2, but the host uses cgroup ${mode}`,
      });
    }
    await client.call('StopContainer', { container_id: id, timeout: 0 });
    await assert.rejects(client.call('UpdateContainerResources', { container_id: id, linux: { cpu_shares: '512' } }), { code: grpc.status.FAILED_PRECONDITION });
  });

  it('changes limits from the caisson CLI', async () => {
    const d = await daemons.start({ config: { 'insecure-registries': [registry.host] } });
    const client = d.client();
    await client.call('PullImage', { image: { image } });
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const id = await startContainer(client, podId, pod, containerConfig('cli-updated', image, ['sleep', '300']));
    const cli = path.join(packageInfo().root, 'bin', 'caisson');
    const { stdout } = await promisify(execFile)(process.execPath, [cli, '--host', `unix://${d.socket}`, 'update', '--memory', '48m', '--cpu-shares', '300', id]);
    assert.equal(stdout, `${id}\n`);
    const cgroupsPath = await cgroupsPathOf(client, id);
    assert.equal(fs.readFileSync(`/sys/fs/cgroup/memory${cgroupsPath}/memory.limit_in_bytes`, 'utf8').trim(), String(48 * 1024 * 1024));
    assert.equal(fs.readFileSync(`/sys/fs/cgroup/cpu${cgroupsPath}/cpu.shares`, 'utf8').trim(), '300');
  });
});
