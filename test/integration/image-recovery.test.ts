import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CriClient } from '../../cli/cri-client';
import { KILL_POINTS, type KillPoint } from '../../core/crash/kill-point';
import { startBusyboxRegistry } from '../support/busybox-registry';
import type { PushedImage } from '../support/images/image-builder';
import { containerConfig, podConfig, runPod, startContainer, waitForExit } from '../support/pod-fixtures';
import type { TestRegistry } from '../support/registry/test-registry';
import { spawnCaissond, waitUntilServing, writeDaemonJson, type SpawnedDaemon, tearDownSpawned } from '../support/spawned-daemon';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';
import { testDaemonConfig, unmountBelow } from '../support/test-daemon';

// PullImage and RemoveImage killed at each of their named steps (core/crash/kill-point.ts): the
// real bin/caissond (from dist/) is armed with CAISSON_TEST_KILL_POINT, dies there by SIGKILL,
// and is restarted unarmed on the same roots. Then the image is either whole (ImageStatus finds
// it and a container runs from it) or gone (and a new pull works), the content store holds no
// blob and the snapshot store no snapshot that no image references, nothing is left under a
// temporary name, and recovery said what it removed.

type Outcome = { readonly present: boolean; readonly recovered: readonly RegExp[] };

const orphanBlob = /recovery: image blob sha256:[0-9a-f]{64} removed: no image record references it/;
const orphanSnapshot = /recovery: image snapshot sha256:[0-9a-f]{64} removed: no image record references it/;

/** What each step leaves after recovery: written before the record, it is rolled back; after, it is kept. */
const EXPECTED: Record<(typeof KILL_POINTS.PullImage | typeof KILL_POINTS.RemoveImage)[number], Outcome> = {
  'image-manifest-written': { present: false, recovered: [orphanBlob] },
  'image-blob-written': { present: false, recovered: [orphanBlob] },
  'image-layer-unpacked': { present: false, recovered: [orphanBlob, orphanSnapshot] },
  'image-recorded': { present: true, recovered: [] },
  'image-record-removed': { present: false, recovered: [orphanBlob, orphanSnapshot] },
  'image-content-removed': { present: false, recovered: [] },
};

describe('image recovery after a kill', function () {
  this.timeout(120_000);
  let registry: TestRegistry | undefined;
  let image = '';
  let busybox: PushedImage;
  let root = '';
  const spawned: SpawnedDaemon[] = [];
  const clients: CriClient[] = [];

  before(async () => ({ registry, image, busybox } = await startBusyboxRegistry()));
  after(async () => registry?.stop());
  beforeEach(() => (root = makeTempRoot('image-crash')));
  afterEach(async function () {
    await tearDownSpawned(spawned, clients, socket(), this.currentTest?.state === 'failed');
    await unmountBelow(root);
    removeTempRoot(root);
  });

  const socket = (): string => path.join(root, 'run', 'caisson.sock');
  const imagesRoot = (): string => path.join(root, 'lib', 'images');

  const startDaemon = async (killAt = ''): Promise<{ daemon: SpawnedDaemon; client: CriClient }> => {
    const config = writeDaemonJson(root, testDaemonConfig(root, { 'insecure-registries': [registry?.host ?? ''] }));
    const daemon = spawnCaissond(['--config', config], { CAISSON_TEST_KILL_POINT: killAt });
    spawned.push(daemon);
    await waitUntilServing(daemon, socket());
    const client = new CriClient(socket());
    clients.push(client);
    return { daemon, client };
  };

  const dies = async (daemon: SpawnedDaemon, call: Promise<unknown>, point: string): Promise<void> => {
    await assert.rejects(call, `the call armed at ${point} should not have answered`);
    assert.equal(await daemon.exited, 'SIGKILL', `caissond should have died at ${point}`);
  };

  /** No blob, snapshot or temporary file that no listed image owns; every part of a listed image there. */
  const assertStoreOwned = async (client: CriClient): Promise<void> => {
    const digests = new Set<string>();
    const chainIds = new Set<string>();
    const { images = [] } = await client.call('ListImages', {});
    for (const listed of images) {
      digests.add(String(listed.id));
      for (const ref of listed.repo_digests ?? []) digests.add(ref.slice(ref.indexOf('@') + 1));
      const { info } = await client.call('ImageStatus', { image: { image: listed.id }, verbose: true });
      const parsed = JSON.parse(info?.['info'] ?? '{}') as { manifestDigest: string; layers: { digest: string; chainId: string }[] };
      digests.add(parsed.manifestDigest);
      for (const layer of parsed.layers) {
        digests.add(layer.digest);
        chainIds.add(layer.chainId);
      }
    }
    const blobs = fs.readdirSync(path.join(imagesRoot(), 'content', 'blobs', 'sha256')).map((hex) => `sha256:${hex}`);
    assert.deepEqual(blobs.filter((d) => !digests.has(d)), [], 'blobs that no image references');
    for (const digest of digests) assert.ok(blobs.includes(digest), `blob ${digest} of a listed image is missing`);
    assert.deepEqual(fs.readdirSync(path.join(imagesRoot(), 'content', 'ingest')), [], 'partial downloads');
    const snapshots = fs.readdirSync(path.join(imagesRoot(), 'snapshots'));
    assert.deepEqual(snapshots.filter((name) => !chainIds.has(`sha256:${name}`)), [], 'snapshots (or temporary dirs) that no image references');
    for (const chainId of chainIds) assert.ok(fs.existsSync(path.join(imagesRoot(), 'snapshots', chainId.slice('sha256:'.length), 'fs')), `snapshot ${chainId} is missing`);
  };

  /** The image works: a container runs from it and exits 0 with its output. */
  const runsAContainer = async (client: CriClient): Promise<void> => {
    const logs = path.join(root, 'logs');
    fs.mkdirSync(logs, { recursive: true });
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const id = await startContainer(client, podId, pod, containerConfig('probe', image, ['sh', '-c', 'cat /etc/hostname >/dev/null; echo whole']));
    const status = await waitForExit(client, id);
    assert.equal(status.exit_code, 0);
    assert.match(fs.readFileSync(path.join(logs, 'probe.log'), 'utf8'), /stdout F whole/);
  };

  const recoveryLines = (daemon: SpawnedDaemon): string[] => daemon.output().split('\n').filter((line) => line.includes('recovery: image'));

  const checkAfterRestart = async (point: KillPoint, outcome: Outcome): Promise<void> => {
    const { daemon, client } = await startDaemon();
    const lines = recoveryLines(daemon);
    for (const pattern of outcome.recovered) assert.ok(lines.some((line) => pattern.test(line)), `after ${point}, no recovery line matches ${pattern}:\n${lines.join('\n')}`);
    if (outcome.recovered.length === 0) assert.deepEqual(lines, [], `after ${point}, recovery had nothing to do`);
    await assertStoreOwned(client);
    const { image: found } = await client.call('ImageStatus', { image: { image } });
    if (outcome.present) {
      assert.equal(found?.id, busybox.configDigest, `after ${point} the image should be there`);
    } else {
      assert.equal(found ?? undefined, undefined, `after ${point} the image should be gone`);
      assert.equal((await client.call('PullImage', { image: { image } })).image_ref, busybox.configDigest);
      await assertStoreOwned(client);
    }
    await runsAContainer(client);
  };

  it('expects an outcome for every PullImage and RemoveImage kill point, and only for those', () => {
    assert.deepEqual(Object.keys(EXPECTED).sort(), [...KILL_POINTS.PullImage, ...KILL_POINTS.RemoveImage].sort());
  });

  for (const point of KILL_POINTS.PullImage) {
    it(`PullImage killed at ${point}: the image is ${EXPECTED[point].present ? 'whole' : 'gone, and pulls again'}, nothing orphaned`, async () => {
      const { daemon, client } = await startDaemon(point);
      await dies(daemon, client.call('PullImage', { image: { image } }), point);
      await checkAfterRestart(point, EXPECTED[point]);
    });
  }

  for (const point of KILL_POINTS.RemoveImage) {
    it(`RemoveImage killed at ${point}: the image is gone, its content too, and it pulls again`, async () => {
      const { daemon, client } = await startDaemon(point);
      assert.equal((await client.call('PullImage', { image: { image } })).image_ref, busybox.configDigest);
      await dies(daemon, client.call('RemoveImage', { image: { image } }), point);
      await checkAfterRestart(point, EXPECTED[point]);
    });
  }
});
