import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startBusyboxRegistry } from '../support/busybox-registry';
import { busyboxBaseLayer, pushImage, type LayerEntry } from '../support/images/image-builder';
import { BUSYBOX_CONFIG } from '../support/images/standard-images';
import { containerConfig, podConfig, runPod, startContainer, waitForExit } from '../support/pod-fixtures';
import type { TestRegistry } from '../support/registry/test-registry';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';
import { useTestDaemons } from '../support/test-daemon';

// An image of 128 layers runs. With the snapshots' absolute paths in overlayfs' lowerdir option,
// anything past about 40 layers overflowed the kernel's one-page limit on mount options.

const LAYERS = 128;
const PAGE_SIZE = 4096;

describe('an image of 128 layers', function () {
  this.timeout(180_000);
  const daemons = useTestDaemons();
  let registry: TestRegistry;
  let logs: string;

  before(async () => {
    ({ registry } = await startBusyboxRegistry());
    const layers: LayerEntry[][] = [busyboxBaseLayer()];
    for (let i = 1; i < LAYERS; i++) {
      // Each layer adds its own file and rewrites one all of them share: the top one must win.
      layers.push([
        { type: 'file', path: `layers/${i}`, content: `layer ${i}\n` },
        { type: 'file', path: 'top', content: `written by layer ${i}\n` },
      ]);
    }
    await pushImage(registry, { repository: 'layered', tags: ['128'], layers, config: BUSYBOX_CONFIG, compression: 'none' });
  });
  after(async () => registry?.stop());
  beforeEach(() => (logs = makeTempRoot('layers-logs')));
  afterEach(() => removeTempRoot(logs));

  it('mounts and runs it, with the files of the bottom, middle and top layers', async () => {
    const d = await daemons.start({ config: { 'insecure-registries': [registry.host] } });
    const client = d.client();
    const image = `${registry.host}/layered:128`;
    await client.call('PullImage', { image: { image } });
    const { info } = await client.call('ImageStatus', { image: { image }, verbose: true });
    const chainIds = (JSON.parse(info?.['info'] ?? '{}') as { layers: { chainId: string }[] }).layers.map((l) => l.chainId);
    assert.equal(chainIds.length, LAYERS);
    const absoluteLowerdir = chainIds.map((id) => path.join(d.root, 'lib', 'images', 'snapshots', id.replace('sha256:', ''), 'fs')).join(':');
    assert.ok(absoluteLowerdir.length > PAGE_SIZE, `absolute paths would need ${absoluteLowerdir.length} bytes of options`);

    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const id = await startContainer(client, podId, pod, containerConfig('layers', image, ['sh', '-c', 'ls /bin/sh >/dev/null && cat /layers/1 /layers/64 /layers/127 /top; ls /layers | wc -l']));
    const status = await waitForExit(client, id);
    assert.equal(status.exit_code, 0);
    const output = fs
      .readFileSync(path.join(logs, 'layers.log'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(' ').slice(3).join(' ').trim());
    assert.deepEqual(output, ['layer 1', 'layer 64', 'layer 127', 'written by layer 127', String(LAYERS - 1)]);
  });
});
