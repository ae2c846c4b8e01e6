import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { packageInfo } from '../../core/package-info';
import { useBusyboxPods } from '../support/busybox-pods';
import { containerConfig, startContainer } from '../support/pod-fixtures';

// CheckpointContainer and restore with "enable-criu-support", against the host's real CRIU. What
// the daemon must answer depends on `criu check`, which the test asks itself: where it fails (as
// Debian 12's CRIU 3.17 does on the developers' 6.18 kernels) both calls answer
// FAILED_PRECONDITION with CRIU's own words. crictl v1.29.0 (the CRI lab's) sends the checkpoint.

const execFileAsync = promisify(execFile);
const CRICTL = path.resolve(packageInfo().root, '..', 'shared', 'cri-lab', 'bin', 'crictl');

describe('checkpoint and restore with CRIU', function () {
  this.timeout(120_000);
  const pods = useBusyboxPods('checkpoint-logs');

  const criuCheck = spawnSync('criu', ['check'], { encoding: 'utf8' });
  const criuWorks = criuCheck.status === 0;
  /** The first line criu check wrote, as the daemon quotes it. */
  const criuSays = (criuCheck.stderr ?? '').split('\n').map((line) => line.trim()).find(Boolean) ?? '';

  it('answers CheckpointContainer as criu check allows, through the CRI and through crictl', async () => {
    assert.ok(criuCheck.error === undefined, `criu must be installed (install-deps installs it): ${String(criuCheck.error)}`);
    const { daemon: d, client, podId, pod } = await pods.startPod({}, { 'enable-criu-support': true });
    const id = await startContainer(client, podId, pod, containerConfig('counter', pods.image, ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i; sleep 0.1; done']));
    const location = path.join(pods.logs, 'counter.tar');

    const expected = criuWorks
      ? { code: grpc.status.UNIMPLEMENTED, details: new RegExp(`^container ${id} cannot be checkpointed: criu check passes here`) }
      : { code: grpc.status.FAILED_PRECONDITION, details: new RegExp(`^container ${id} cannot be checkpointed: CRIU does not work on this host: criu check failed: ${escape(criuSays)}`) };
    await assert.rejects(client.call('CheckpointContainer', { container_id: id, location }), expected);
    assert.ok(!fs.existsSync(location), 'no archive is left behind');

    assert.ok(fs.existsSync(CRICTL), `crictl v1.29.0 of the CRI lab is needed at ${CRICTL}`);
    // Asynchronously: the daemon answering crictl runs in this process.
    const crictl = await execFileAsync(CRICTL, ['--runtime-endpoint', `unix://${d.socket}`, 'checkpoint', '--export', location, id], { timeout: 60_000 }).then(
      () => ({ failed: false, stderr: '' }),
      (error: { stderr?: string }) => ({ failed: true, stderr: String(error.stderr) }),
    );
    assert.ok(crictl.failed, 'crictl checkpoint fails');
    assert.match(crictl.stderr, criuWorks ? /criu check passes here/ : new RegExp(`CRIU does not work on this host: criu check failed: ${escape(criuSays)}`));

    // The bad requests are refused before CRIU is asked.
    await assert.rejects(client.call('CheckpointContainer', { container_id: id, location: 'relative.tar' }), {
      code: grpc.status.INVALID_ARGUMENT,
      details: `checkpoint location of container ${id} "relative.tar" must be an absolute path`,
    });
    await assert.rejects(client.call('CheckpointContainer', { container_id: 'f00d', location }), { code: grpc.status.NOT_FOUND, details: 'container f00d not found' });
    await client.call('StopContainer', { container_id: id, timeout: 0 });
    await assert.rejects(client.call('CheckpointContainer', { container_id: id, location }), {
      code: grpc.status.FAILED_PRECONDITION,
      details: `container ${id} is exited; only a running container can be checkpointed`,
    });
  });

  it('answers a CreateContainer from a checkpoint archive as criu check allows, and makes nothing', async () => {
    const { client, podId, pod } = await pods.startPod({}, { 'enable-criu-support': true });
    const archive = path.join(pods.logs, 'from-elsewhere.tar');
    fs.writeFileSync(archive, 'a checkpoint archive');
    const expected = criuWorks
      ? { code: grpc.status.UNIMPLEMENTED, details: /criu check passes here, but this build of caissond does not restore checkpoints yet$/ }
      : { code: grpc.status.FAILED_PRECONDITION, details: new RegExp(`^container "restored" cannot be restored from checkpoint ${escape(archive)}: CRIU does not work on this host: criu check failed: ${escape(criuSays)}`) };
    await assert.rejects(client.call('CreateContainer', { pod_sandbox_id: podId, config: containerConfig('restored', archive, []), sandbox_config: pod }), expected);
    assert.deepEqual((await client.call('ListContainers', {})).containers, []);
  });

  it('leaves CheckpointContainer unimplemented, saying how to turn it on, without "enable-criu-support"', async () => {
    const { client } = await pods.startPod();
    await assert.rejects(client.call('CheckpointContainer', { container_id: 'c1', location: '/tmp/c1.tar' }), { code: grpc.status.UNIMPLEMENTED, details: /set "enable-criu-support": true/ });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
