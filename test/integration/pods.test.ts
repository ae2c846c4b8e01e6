import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { CriClient } from '../../cli/cri-client';
import { busyboxBaseLayer, pushImage, type PushedImage } from '../support/images/image-builder';
import { BUSYBOX_CONFIG } from '../support/images/standard-images';
import { containerConfig, criLogLines, podConfig, runPod, startContainer, waitForExit } from '../support/pod-fixtures';
import { startTestRegistry, type TestRegistry } from '../support/registry/test-registry';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';
import { useTestDaemons, type TestDaemon } from '../support/test-daemon';

// Pods and containers with real runc and conmon, images from a local docker-registry.

describe('pods and containers', function () {
  this.timeout(120_000);
  const daemons = useTestDaemons();
  let registry: TestRegistry;
  let busybox: PushedImage;
  let image: string;
  let logs: string;

  before(async () => {
    registry = await startTestRegistry();
    busybox = await pushImage(registry, { repository: 'busybox', tags: ['latest'], layers: [busyboxBaseLayer()], config: BUSYBOX_CONFIG });
    image = `${registry.host}/busybox:latest`;
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
});
