import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import type { CriClient } from '../../cli/cri-client';
import { runProgram } from '../../core/host-programs/run-program';
import { packageInfo } from '../../core/package-info';
import { MetadataStore } from '../../core/store/metadata-store';
import { busyboxBaseLayer, pushImage } from '../support/images/image-builder';
import { BUSYBOX_CONFIG, pushStandardImages, type StandardImages } from '../support/images/standard-images';
import { startTestRegistry, type TestRegistry } from '../support/registry/test-registry';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';
import { useTestDaemons, type TestDaemon } from '../support/test-daemon';

// The image service against a real docker-registry on 127.0.0.1 serving images built from
// busybox-static: pulls, lookups, removal rules, snapshots on disk, auth, TLS, mirrors, failures.

const run = promisify(execFile);

describe('images', function () {
  this.timeout(120_000);
  const daemons = useTestDaemons();
  let registry: TestRegistry;
  let images: StandardImages;

  before(async () => {
    registry = await startTestRegistry();
    images = await pushStandardImages(registry);
  });
  after(async () => registry?.stop());

  const startDaemon = (config: Record<string, unknown> = {}, root?: string): Promise<TestDaemon> =>
    daemons.start({ config: { 'insecure-registries': [registry.host], ...config }, ...(root ? { root } : {}) });
  const ref = (name: string): string => `${registry.host}/${name}`;
  const pull = (client: CriClient, image: string, auth?: object) => client.call('PullImage', { image: { image }, ...(auth ? { auth } : {}) });
  const status = (client: CriClient, image: string, verbose = false) => client.call('ImageStatus', { image: { image }, verbose });
  const snapshotDir = (d: TestDaemon, chainId: string): string => path.join(d.root, 'lib', 'images', 'snapshots', chainId.replace('sha256:', ''), 'fs');
  const chainIdsOf = async (client: CriClient, image: string): Promise<string[]> => {
    const info = JSON.parse((await status(client, image, true)).info?.['info'] ?? '{}') as { layers: { chainId: string }[] };
    return info.layers.map((l) => l.chainId);
  };

  it('pulls an image and reports its ID, tags, digests, size and config', async () => {
    const d = await startDaemon();
    const client = d.client();
    const { image_ref } = await pull(client, ref('busybox:latest'));
    assert.equal(image_ref, images.busybox.configDigest);
    const { image, info } = await status(client, ref('busybox'), true);
    assert.deepEqual(image, {
      id: images.busybox.configDigest,
      repo_tags: [ref('busybox:latest')],
      repo_digests: [`${ref('busybox')}@${images.busybox.manifestDigest}`],
      size: String(images.busybox.totalSize),
      uid: null,
      username: '',
      spec: { image: images.busybox.configDigest, annotations: {}, user_specified_image: '', runtime_handler: '' },
      pinned: false,
    });
    const verbose = JSON.parse(info?.['info'] ?? '');
    assert.deepEqual(verbose.imageSpec.config.Cmd, BUSYBOX_CONFIG.Cmd);
    assert.equal(verbose.manifestDigest, images.busybox.manifestDigest);
  });

  it('unpacks layers into snapshots with modes, links and content intact', async () => {
    const d = await startDaemon();
    await pull(d.client(), ref('busybox:latest'));
    const [base] = await chainIdsOf(d.client(), ref('busybox:latest'));
    const dir = snapshotDir(d, base ?? '');
    const busybox = fs.statSync(path.join(dir, 'bin', 'busybox'));
    assert.equal(busybox.mode & 0o7777, 0o755);
    assert.ok(fs.readFileSync(path.join(dir, 'bin', 'busybox')).equals(fs.readFileSync('/bin/busybox')));
    assert.equal(fs.readlinkSync(path.join(dir, 'bin', 'sh')), 'busybox');
    assert.equal(fs.statSync(path.join(dir, 'tmp')).mode & 0o7777, 0o1777);
    const { stdout } = await run(path.join(dir, 'bin', 'busybox'), ['echo', 'runs']);
    assert.equal(stdout, 'runs\n');
  });

  it('turns whiteouts and opaque directories into overlayfs form', async () => {
    const d = await startDaemon();
    await pull(d.client(), ref('whiteout:latest'));
    const chain = await chainIdsOf(d.client(), ref('whiteout:latest'));
    assert.equal(chain.length, 3);
    const top = snapshotDir(d, chain[2] ?? '');
    const whiteout = fs.lstatSync(path.join(top, 'data', 'gone.txt'));
    assert.ok(whiteout.isCharacterDevice() && whiteout.rdev === 0, 'a whiteout is a 0/0 character device');
    assert.equal(fs.existsSync(path.join(top, 'data', '.wh.gone.txt')), false);
    const { stdout: opaque } = await runProgram('getfattr', ['--only-values', '-n', 'trusted.overlay.opaque', path.join(top, 'cache')]);
    assert.equal(opaque, 'y');

    // The merged view, as a container will see it.
    const mountpoint = makeTempRoot('overlay');
    const lower = [...chain].reverse().map((c) => snapshotDir(d, c)).join(':');
    await runProgram('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower}`, mountpoint]);
    try {
      assert.deepEqual(fs.readdirSync(path.join(mountpoint, 'data')).sort(), ['added.txt', 'kept.txt']);
      assert.deepEqual(fs.readdirSync(path.join(mountpoint, 'cache')), ['new']);
      assert.ok(fs.existsSync(path.join(mountpoint, 'bin', 'busybox')));
    } finally {
      await runProgram('umount', [mountpoint]);
      removeTempRoot(mountpoint);
    }
  });

  it('picks the host platform from a multi-arch index and records the index digest', async () => {
    const d = await startDaemon();
    const { image_ref } = await pull(d.client(), ref('multi:latest'));
    const host = process.arch === 'arm64' ? images.multiArch.arm64 : images.multiArch.amd64;
    assert.equal(image_ref, host.configDigest);
    const { image } = await status(d.client(), ref('multi:latest'));
    assert.deepEqual(image?.repo_digests, [`${ref('multi')}@${images.multiArch.indexDigest}`]);
    const chain = await chainIdsOf(d.client(), ref('multi:latest'));
    const top = snapshotDir(d, chain[chain.length - 1] ?? '');
    assert.equal(fs.readFileSync(path.join(top, 'platform'), 'utf8').trim(), process.arch === 'arm64' ? 'arm64' : 'amd64');
  });

  it('pulls OCI media types and uncompressed layers', async () => {
    const d = await startDaemon();
    assert.equal((await pull(d.client(), ref('busybox-oci:latest'))).image_ref, images.oci.configDigest);
    assert.equal((await pull(d.client(), ref('plain:latest'))).image_ref, images.uncompressed.configDigest);
    assert.equal((await status(d.client(), ref('plain:latest'))).image?.id, images.uncompressed.configDigest);
  });

  it('reports the image user as uid or username', async () => {
    const d = await startDaemon();
    await pull(d.client(), ref('user-numeric:latest'));
    await pull(d.client(), ref('user-named:latest'));
    const numeric = (await status(d.client(), ref('user-numeric:latest'))).image;
    assert.deepEqual([numeric?.uid, numeric?.username], [{ value: '1234' }, '']);
    const named = (await status(d.client(), ref('user-named:latest'))).image;
    assert.deepEqual([named?.uid, named?.username], [null, 'daemon']);
  });

  it('finds an image by tag, ID, short ID and digest; an unknown one is an empty answer', async () => {
    const d = await startDaemon();
    const client = d.client();
    await pull(client, ref('busybox:latest'));
    await pull(client, ref('busybox:1.36'));
    const id = images.busybox.configDigest;
    for (const name of [ref('busybox:1.36'), id, id.slice(7, 19), `${ref('busybox')}@${images.busybox.manifestDigest}`]) {
      assert.equal((await status(client, name)).image?.id, id, name);
    }
    assert.deepEqual(await status(client, ref('busybox:nope')), { image: null, info: {} });
    const listed = await client.call('ListImages', {});
    assert.equal(listed.images?.length, 1);
    assert.deepEqual(listed.images?.[0]?.repo_tags, [ref('busybox:1.36'), ref('busybox:latest')]);
    const filtered = await client.call('ListImages', { filter: { image: { image: ref('busybox:latest') } } });
    assert.deepEqual(filtered.images?.map((i) => i.id), [id]);
    const none = await client.call('ListImages', { filter: { image: { image: ref('whiteout:latest') } } });
    assert.deepEqual(none.images, []);
  });

  it('removes one tag of several and keeps the image; the last tag removes it and its content', async () => {
    const d = await startDaemon();
    const client = d.client();
    await pull(client, ref('busybox:latest'));
    await pull(client, ref('busybox:1.36'));
    await client.call('RemoveImage', { image: { image: ref('busybox:1.36') } });
    const left = await status(client, images.busybox.configDigest);
    assert.deepEqual(left.image?.repo_tags, [ref('busybox:latest')]);
    await client.call('RemoveImage', { image: { image: ref('busybox:latest') } });
    assert.equal((await status(client, images.busybox.configDigest)).image, null);
    const imagesRoot = path.join(d.root, 'lib', 'images');
    assert.deepEqual(fs.readdirSync(path.join(imagesRoot, 'content', 'blobs', 'sha256')), []);
    assert.deepEqual(fs.readdirSync(path.join(imagesRoot, 'snapshots')), []);
    await client.call('RemoveImage', { image: { image: ref('busybox:latest') } });
  });

  it('keeps layers another image still uses when one is removed by ID', async () => {
    const d = await startDaemon();
    const client = d.client();
    await pull(client, ref('busybox:latest'));
    await pull(client, ref('whiteout:latest'));
    await client.call('RemoveImage', { image: { image: images.whiteout.configDigest } });
    const [base] = await chainIdsOf(client, ref('busybox:latest'));
    assert.ok(fs.existsSync(path.join(snapshotDir(d, base ?? ''), 'bin', 'busybox')));
    assert.equal(fs.readdirSync(path.join(d.root, 'lib', 'images', 'snapshots')).length, 1);
  });

  it('refuses to remove an image a container uses', async () => {
    const d = await startDaemon();
    const client = d.client();
    await pull(client, ref('busybox:latest'));
    const store = MetadataStore.open(path.join(d.root, 'lib'));
    try {
      store.putContainer('c-using-busybox', 'sb1', { imageId: images.busybox.configDigest });
      await assert.rejects(client.call('RemoveImage', { image: { image: ref('busybox:latest') } }), {
        code: grpc.status.FAILED_PRECONDITION,
        details: `image ${images.busybox.configDigest} (${ref('busybox:latest')}) is used by container(s) c-using-busybox; remove them first`,
      });
      store.deleteContainer('c-using-busybox');
    } finally {
      store.close();
    }
    await client.call('RemoveImage', { image: { image: ref('busybox:latest') } });
    assert.equal((await status(client, ref('busybox:latest'))).image, null);
  });

  it('rejects a tampered blob and stores nothing of the image', async () => {
    const tampered = await startTestRegistry();
    try {
      const pushed = await pushImage(tampered, { repository: 'victim', tags: ['latest'], layers: [busyboxBaseLayer(), [{ type: 'file', path: '/x', content: 'original' }]] });
      const layer = pushed.layers[1];
      assert.ok(layer);
      const blob = tampered.blobPath(layer.digest);
      const bytes = fs.readFileSync(blob);
      bytes[bytes.length - 5] = (bytes[bytes.length - 5] ?? 0) ^ 0xff;
      fs.writeFileSync(blob, bytes);
      const d = await startDaemon({ 'insecure-registries': [tampered.host] });
      await assert.rejects(pull(d.client(), `${tampered.host}/victim:latest`), (error: grpc.ServiceError) => {
        assert.equal(error.code, grpc.status.DATA_LOSS);
        assert.match(error.details, new RegExp(`^pull ${tampered.host}/victim:latest: layer ${layer.digest} of ${tampered.host}/victim:latest: content does not match its digest ${layer.digest} \\(received sha256:[a-f0-9]{64}\\); nothing was stored$`));
        return true;
      });
      assert.deepEqual((await d.client().call('ListImages', {})).images, []);
      const imagesRoot = path.join(d.root, 'lib', 'images');
      assert.equal(fs.existsSync(path.join(imagesRoot, 'content', 'blobs', 'sha256', layer.digest.slice(7))), false);
      assert.deepEqual(fs.readdirSync(path.join(imagesRoot, 'content', 'ingest')), []);
      assert.ok(fs.readdirSync(path.join(imagesRoot, 'snapshots')).every((name) => !name.startsWith('tmp-')));
    } finally {
      await tampered.stop();
    }
  });

  it('says NOT_FOUND for a missing tag and UNAVAILABLE for an unreachable registry', async () => {
    const d = await startDaemon({ 'insecure-registries': [registry.host, '127.0.0.1:1'] });
    await assert.rejects(pull(d.client(), ref('busybox:nope')), {
      code: grpc.status.NOT_FOUND,
      details: `pull ${ref('busybox:nope')}: manifest busybox:nope from ${registry.host}: not found (404)`,
    });
    await assert.rejects(pull(d.client(), '127.0.0.1:1/busybox:latest'), (error: grpc.ServiceError) => {
      assert.equal(error.code, grpc.status.UNAVAILABLE);
      assert.match(error.details, /^pull 127\.0\.0\.1:1\/busybox:latest: registry 127\.0\.0\.1:1 is unreachable over http: .*ECONNREFUSED/);
      return true;
    });
    await assert.rejects(pull(d.client(), 'Not A Reference'), { code: grpc.status.INVALID_ARGUMENT });
  });

  it('merges identical pulls in flight into one', async () => {
    const d = await startDaemon();
    const client = d.client();
    const results = await Promise.all([1, 2, 3].map(() => pull(client, ref('multi-layer:latest'))));
    assert.deepEqual(new Set(results.map((r) => r.image_ref)), new Set([images.multiLayer.configDigest]));
    assert.equal(d.logs.filter((line) => line.includes(`pulled ${ref('multi-layer:latest')}`)).length, 1);
  });

  it('keeps images across a restart and cleans what a crash left', async () => {
    const first = await startDaemon();
    await pull(first.client(), ref('busybox:latest'));
    await first.daemon.stop();
    const imagesRoot = path.join(first.root, 'lib', 'images');
    fs.writeFileSync(path.join(imagesRoot, 'content', 'ingest', 'partial'), 'half a blob');
    fs.mkdirSync(path.join(imagesRoot, 'snapshots', 'tmp-crashed', 'fs'), { recursive: true });
    fs.writeFileSync(path.join(imagesRoot, 'content', 'blobs', 'sha256', 'f'.repeat(64)), 'orphan');
    const second = await startDaemon({}, first.root);
    assert.equal((await status(second.client(), ref('busybox:latest'))).image?.id, images.busybox.configDigest);
    assert.deepEqual(fs.readdirSync(path.join(imagesRoot, 'content', 'ingest')), []);
    assert.equal(fs.existsSync(path.join(imagesRoot, 'snapshots', 'tmp-crashed')), false);
    assert.equal(fs.existsSync(path.join(imagesRoot, 'content', 'blobs', 'sha256', 'f'.repeat(64))), false);
  });

  it('reports the image filesystem usage', async () => {
    const d = await startDaemon();
    await pull(d.client(), ref('busybox:latest'));
    const { image_filesystems } = await d.client().call('ImageFsInfo', {});
    const fsUsage = image_filesystems?.[0];
    assert.equal(fsUsage?.fs_id?.mountpoint, path.join(d.root, 'lib', 'images'));
    assert.ok(Number(fsUsage?.used_bytes?.value) > fs.statSync('/bin/busybox').size, 'counts the unpacked busybox and its blob');
    assert.ok(Number(fsUsage?.inodes_used?.value) > 10);
    const nanos = BigInt(String(fsUsage?.timestamp));
    assert.ok(Math.abs(Number(nanos / 1_000_000n) - Date.now()) < 60_000);
  });

  it('streams pull progress on caisson.v1 and ends with the image ID', async () => {
    const d = await startDaemon();
    const updates: { done: number; total: number; ref: string }[] = [];
    const id = await d.client().pullWithProgress({ image: { image: ref('multi-layer:latest') } }, (p) =>
      updates.push({ done: Number(p.done_bytes), total: Number(p.total_bytes), ref: p.image_ref }),
    );
    assert.equal(id, images.multiLayer.configDigest);
    assert.ok(updates.length >= 2, `expected several updates, got ${updates.length}`);
    const last = updates[updates.length - 1];
    assert.equal(last?.done, last?.total);
    assert.equal(last?.ref, id);
    for (let i = 1; i < updates.length; i++) assert.ok((updates[i]?.done ?? 0) >= (updates[i - 1]?.done ?? 0), 'progress never goes back');
  });

  it('serves the image RPCs on v1alpha2 too', async () => {
    const d = await startDaemon();
    const alpha = d.client('v1alpha2');
    assert.equal((await alpha.call('PullImage', { image: { image: ref('busybox:latest') } })).image_ref, images.busybox.configDigest);
    assert.equal((await alpha.call('ImageStatus', { image: { image: ref('busybox:latest') } })).image?.id, images.busybox.configDigest);
  });

  it('works from the caisson CLI: pull, images, inspecti, imagefsinfo, rmi', async () => {
    const d = await startDaemon();
    const cli = (...args: string[]) => run(process.execPath, [path.join(packageInfo().root, 'bin', 'caisson'), '--host', `unix://${d.socket}`, ...args]);
    const pulled = await cli('pull', ref('busybox:latest'));
    assert.match(pulled.stdout, new RegExp(`^${ref('busybox:latest')}: 1/1 layers, `, 'm'), 'plain lines when not on a terminal');
    assert.match(pulled.stdout, new RegExp(`Image is up to date for ${images.busybox.configDigest}\\n$`));
    const listed = (await cli('images')).stdout.split('\n');
    assert.match(listed[0] ?? '', /^IMAGE +TAG +IMAGE ID +SIZE$/);
    assert.match(listed[1] ?? '', new RegExp(`^${ref('busybox')} +latest +${images.busybox.configDigest.slice(7, 19)} +\\d`));
    const inspected = JSON.parse((await cli('inspecti', ref('busybox:latest'))).stdout);
    assert.equal(inspected.status.id, images.busybox.configDigest);
    assert.deepEqual(inspected.info.imageSpec.config.Cmd, ['sh']);
    assert.match((await cli('imagefsinfo')).stdout, /^UsedBytes +\d+/m);
    assert.equal((await cli('rmi', ref('busybox:latest'))).stdout, `Deleted: ${ref('busybox:latest')}\n`);
    await assert.rejects(cli('rmi', ref('busybox:latest')), (error: { stderr: string }) => {
      assert.equal(error.stderr, `caisson: image "${ref('busybox:latest')}" is not present\n`);
      return true;
    });
  });
});
