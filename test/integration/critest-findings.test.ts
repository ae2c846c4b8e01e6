import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadCriServices } from '../../core/cri/cri-proto';
import type { ExecSyncResponse__Output } from '../../core/cri/generated/runtime/v1/ExecSyncResponse';
import { useBusyboxPods } from '../support/busybox-pods';
import { containerConfig, runPod, startContainer, waitForExit } from '../support/pod-fixtures';
import type { TestDaemon } from '../support/test-daemon';

// What critest v1.29.0 (and the kubelet) send, and what Caisson got wrong with it before the
// conformance run joined CI: each test is written from the requests those clients make, not
// from the fixtures the rest of the suite uses.

const MiB = 1024 * 1024;
/** The kubelet's CRI client limit, both ways (pkg/kubelet/cri/remote: maxMsgSize). */
const KUBELET_MAX_MESSAGE_BYTES = 16 * MiB;

/** A PodSandboxConfig as critest's framework builds one: a long generated name, no hostname. */
function critestPod(prefix: string, logDirectory = '', namespaceOptions: Record<string, string> = {}): Record<string, unknown> {
  return {
    metadata: { name: `${prefix}-${randomUUID()}`, uid: randomUUID(), namespace: 'cri-test-namespace', attempt: 0 },
    log_directory: logDirectory,
    labels: { 'cri-test': 'true' },
    linux: { security_context: { namespace_options: namespaceOptions } },
  };
}

describe('what critest sends', function () {
  this.timeout(120_000);
  const pods = useBusyboxPods('critest-logs');

  const startDaemon = async (): Promise<{ d: TestDaemon; client: ReturnType<TestDaemon['client']> }> => {
    const { daemon: d, client } = await pods.startPod();
    return { d, client };
  };

  it('gives a pod with no hostname the node\'s hostname, whatever its name is', async () => {
    const { client } = await startDaemon();
    const pod = critestPod('create-PodSandbox-for-container', pods.logs);
    assert.ok(String((pod['metadata'] as { name: string }).name).length > 64, 'the name is longer than a hostname may be');
    const podId = await runPod(client, pod);
    const id = await startContainer(client, podId, pod, containerConfig('hostname', pods.image, ['sh', '-c', 'hostname; cat /etc/hostname']));
    await waitForExit(client, id);
    const lines = fs.readFileSync(path.join(pods.logs, 'hostname.log'), 'utf8').trim().split('\n').map((line) => line.split(' ').slice(3).join(' '));
    assert.deepEqual(lines, [os.hostname(), os.hostname()]);

    const slashed = critestPod('pod/with/slashes', pods.logs);
    await runPod(client, slashed);
  });

  it('refuses a given hostname the kernel or /etc/hosts cannot take, naming the field', async () => {
    const { client } = await startDaemon();
    const cases: [string, RegExp][] = [
      ['h'.repeat(65), /^hostname "h{65}" is 65 bytes; a hostname has at most 64$/],
      ['-n', /^hostname "-n" is not a valid hostname/],
      ['evil\n10.0.0.1 bank', /^hostname "evil\\n10\.0\.0\.1 bank" is not a valid hostname/],
      ['a/b', /^hostname "a\/b" is not a valid hostname/],
    ];
    for (const [hostname, details] of cases) {
      await assert.rejects(runPod(client, { ...critestPod('bad-hostname'), hostname }), { code: grpc.status.INVALID_ARGUMENT, details });
    }
    assert.equal((await client.call('ListPodSandbox', {})).items?.length, 1, 'only the helper\'s pod exists');
    await runPod(client, { ...critestPod('good-hostname'), hostname: 'h'.repeat(64) });
  });

  it('names the pod-wide PID namespace holder "pause", so pgrep sleep finds only the user\'s sleeps', async () => {
    const { client } = await startDaemon();
    // critest leaves namespace_options empty: the PID mode is then POD, one namespace per pod.
    const pod = critestPod('create-PodSandbox-for-container', pods.logs);
    const podId = await runPod(client, pod);
    const id = await startContainer(client, podId, pod, containerConfig('looker', pods.image, ['sh', '-c', 'cat /proc/1/comm; echo sleeps: $(ps -o comm | grep -cx sleep)']));
    await waitForExit(client, id);
    const lines = fs.readFileSync(path.join(pods.logs, 'looker.log'), 'utf8').trim().split('\n').map((line) => line.split(' ').slice(3).join(' '));
    assert.deepEqual(lines, ['pause', 'sleeps: 0']);
  });

  it('answers ReopenContainerLog only once the new log file exists', async () => {
    const { client } = await startDaemon();
    const pod = critestPod('PodSandbox-with-log-directory', pods.logs);
    const podId = await runPod(client, pod);
    const id = await startContainer(client, podId, pod, containerConfig('reopen', pods.image, ['sh', '-c', 'while true; do echo hello; sleep 1; done']));
    const log = path.join(pods.logs, 'reopen.log');
    for (let i = 0; i < 10; i++) {
      fs.renameSync(log, `${log}.${i}`);
      await client.call('ReopenContainerLog', { container_id: id });
      // critest checks right after the call, with no wait.
      assert.ok(fs.existsSync(log), `round ${i}: ${log} exists when ReopenContainerLog answers`);
    }
  });

  it('refuses strings with NUL bytes with INVALID_ARGUMENT naming the field', async () => {
    const { client, podId, pod } = await pods.startPod();
    const badPod = critestPod('nul');
    (badPod['metadata'] as Record<string, unknown>)['name'] = 'nul\0name';
    await assert.rejects(client.call('RunPodSandbox', { config: badPod }), {
      code: grpc.status.INVALID_ARGUMENT,
      details: 'RunPodSandbox: field config.metadata.name holds a NUL byte, which no CRI string may hold',
    });
    const cases: [Record<string, unknown>, string][] = [
      [{ args: ['a', 'b\0c'] }, 'config.args[1]'],
      [{ envs: [{ key: 'A', value: 'x\0y' }] }, 'config.envs[0].value'],
      [{ working_dir: '/tmp\0' }, 'config.working_dir'],
      [{ labels: { 'key\0': 'v' } }, 'config.labels["key\\u0000"]'],
    ];
    for (const [overrides, field] of cases) {
      await assert.rejects(
        client.call('CreateContainer', { pod_sandbox_id: podId, config: containerConfig('nul', pods.image, ['true'], overrides), sandbox_config: pod }),
        { code: grpc.status.INVALID_ARGUMENT, details: `CreateContainer: field ${field} holds a NUL byte, which no CRI string may hold` },
      );
    }
    assert.deepEqual((await client.call('ListContainers', {})).containers, []);
  });

  it('fits an ExecSync answer of a flooding command in the kubelet\'s 16 MiB message limit', async () => {
    const { daemon: d, client, podId, pod } = await pods.startPod();
    const id = await startContainer(client, podId, pod, containerConfig('main', pods.image, ['sleep', '300']));
    const { RuntimeService } = loadCriServices('v1');
    const kubelet = new RuntimeService(`unix://${d.socket}`, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': KUBELET_MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': KUBELET_MAX_MESSAGE_BYTES,
    });
    const execSync = (cmd: string[]): Promise<ExecSyncResponse__Output> =>
      new Promise((resolve, reject) => {
        const method = (kubelet as unknown as Record<string, Function>)['ExecSync'] as Function;
        method.call(kubelet, { container_id: id, cmd, timeout: 0 }, { deadline: Date.now() + 60_000 }, (error: grpc.ServiceError | null, response: ExecSyncResponse__Output) =>
          error ? reject(error) : resolve(response),
        );
      });
    try {
      // 20 MiB on stdout: as much as fits is kept, and the kubelet can read the answer.
      const flood = await execSync(['sh', '-c', 'head -c 20971520 /dev/zero; echo done >&2']);
      assert.equal(flood.stderr.toString(), 'done\n');
      assert.equal(flood.stdout.length + flood.stderr.length, KUBELET_MAX_MESSAGE_BYTES - 32);
      assert.ok(flood.stdout.every((byte) => byte === 0));
      // Both streams flooding: each keeps half.
      const both = await execSync(['sh', '-c', 'head -c 20971520 /dev/zero; head -c 20971520 /dev/zero >&2; exit 3']);
      assert.deepEqual([both.stdout.length, both.stderr.length, both.exit_code], [(KUBELET_MAX_MESSAGE_BYTES - 32) / 2, (KUBELET_MAX_MESSAGE_BYTES - 32) / 2, 3]);
    } finally {
      kubelet.close();
    }
  });
});
