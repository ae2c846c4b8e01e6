import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { CriClient } from '../../cli/cri-client';
import { busyboxBaseLayer, pushImage, MEDIA_TYPES, type PushedImage } from '../support/images/image-builder';
import { BUSYBOX_CONFIG } from '../support/images/standard-images';
import { useFlakyProxies } from '../support/registry/flaky-proxy';
import { TOKEN_SERVICE, useTestRegistries, type TestRegistry } from '../support/registry/test-registry';
import { useTestDaemons, type TestDaemon } from '../support/test-daemon';

// Pulls off the common path, end to end against an in-process daemon and a real docker-registry
// on 127.0.0.1: identity tokens (the OAuth2 refresh-token grant), zstd-compressed OCI layers, and
// registries that fail transiently (503, retried with backoff) or for good (403).
// Needs docker-registry, busybox-static, zstd, openssl and GNU tar.

describe('image pulls: edge cases', function () {
  this.timeout(30_000);
  const registries = useTestRegistries();
  const proxies = useFlakyProxies();
  const daemons = useTestDaemons();

  const pull = (client: CriClient, image: string, auth?: object) => client.call('PullImage', { image: { image }, ...(auth ? { auth } : {}) });
  const snapshotDir = (d: TestDaemon, chainId: string): string => path.join(d.root, 'lib', 'images', 'snapshots', chainId.replace('sha256:', ''), 'fs');
  const chainIdsOf = async (client: CriClient, image: string): Promise<string[]> => {
    const { info } = await client.call('ImageStatus', { image: { image }, verbose: true });
    return (JSON.parse(info?.['info'] ?? '{}') as { layers: { chainId: string }[] }).layers.map((l) => l.chainId);
  };
  const pushBusybox = (registry: TestRegistry, auth?: { username: string; password: string }): Promise<PushedImage> =>
    pushImage({ ...registry, ...(auth ? { auth } : {}) }, { repository: 'busybox', tags: ['latest'], layers: [busyboxBaseLayer()], config: BUSYBOX_CONFIG });

  describe('identity tokens', () => {
    const credentials = { username: 'alice', password: 'wonderland', identityToken: 'refresh-7f3a9c' };

    it('trades identity_token for a bearer token with the OAuth2 refresh-token grant', async () => {
      const registry = await registries.start({ tokenAuth: credentials });
      const pushed = await pushBusybox(registry, credentials);
      const pushGrants = registry.tokenGrants.length;
      const d = await daemons.start({ config: { 'insecure-registries': [registry.host] } });
      const image = `${registry.host}/busybox:latest`;

      assert.equal((await pull(d.client(), image, { identity_token: credentials.identityToken })).image_ref, pushed.configDigest);
      assert.deepEqual(registry.tokenGrants.slice(pushGrants), [
        { grantType: 'refresh_token', service: TOKEN_SERVICE, scopes: ['repository:busybox:pull'], clientId: 'caisson' },
      ]);
    });

    it('says the token service refused a wrong identity token', async () => {
      const registry = await registries.start({ tokenAuth: credentials });
      await pushBusybox(registry, credentials);
      const d = await daemons.start({ config: { 'insecure-registries': [registry.host] } });
      const image = `${registry.host}/busybox:latest`;
      const realm = new URL(registry.tokenRealm ?? '');

      await assert.rejects(pull(d.client(), image, { identity_token: 'refresh-stale' }), {
        code: grpc.status.UNAUTHENTICATED,
        details: `pull ${image}: token service ${realm.origin} of registry ${registry.host} refused the identity token (OAuth2 refresh token) (401)`,
      });
      assert.deepEqual((await d.client().call('ListImages', {})).images, []);
    });
  });

  describe('zstd layers', () => {
    const pushZstd = (registry: TestRegistry): Promise<PushedImage> =>
      pushImage(registry, {
        repository: 'busybox-zstd',
        tags: ['latest'],
        format: 'oci',
        compression: 'zstd',
        layers: [busyboxBaseLayer(), [{ type: 'file', path: '/etc/motd', content: 'compressed with zstd\n', mode: 0o640 }]],
        config: BUSYBOX_CONFIG,
      });

    it('unpacks an OCI image whose layers are zstd-compressed', async () => {
      const registry = await registries.start();
      const pushed = await pushZstd(registry);
      assert.deepEqual(pushed.layers.map((l) => l.mediaType), [MEDIA_TYPES.oci.layerZstd, MEDIA_TYPES.oci.layerZstd]);
      assert.equal(fs.readFileSync(registry.blobPath(pushed.layers[0]?.digest ?? '')).readUInt32LE(0), 0xfd2fb528, 'the blob is a zstd frame');
      const d = await daemons.start({ config: { 'insecure-registries': [registry.host] } });
      const image = `${registry.host}/busybox-zstd:latest`;

      assert.equal((await pull(d.client(), image)).image_ref, pushed.configDigest);
      const [base, top] = await chainIdsOf(d.client(), image);
      const baseDir = snapshotDir(d, base ?? '');
      assert.ok(fs.readFileSync(path.join(baseDir, 'bin', 'busybox')).equals(fs.readFileSync('/bin/busybox')));
      assert.equal(fs.statSync(path.join(baseDir, 'bin', 'busybox')).mode & 0o7777, 0o755);
      assert.equal(fs.readlinkSync(path.join(baseDir, 'bin', 'sh')), 'busybox');
      const motd = path.join(snapshotDir(d, top ?? ''), 'etc', 'motd');
      assert.equal(fs.readFileSync(motd, 'utf8'), 'compressed with zstd\n');
      assert.equal(fs.statSync(motd).mode & 0o7777, 0o640);
    });

    it('rejects a tampered zstd layer with DATA_LOSS and keeps nothing of it', async () => {
      const registry = await registries.start();
      const pushed = await pushZstd(registry);
      const layer = pushed.layers[1];
      assert.ok(layer);
      const blob = registry.blobPath(layer.digest);
      const bytes = fs.readFileSync(blob);
      bytes[bytes.length - 5] = (bytes[bytes.length - 5] ?? 0) ^ 0xff;
      fs.writeFileSync(blob, bytes);
      const d = await daemons.start({ config: { 'insecure-registries': [registry.host] } });
      const image = `${registry.host}/busybox-zstd:latest`;

      await assert.rejects(pull(d.client(), image), (error: grpc.ServiceError) => {
        assert.equal(error.code, grpc.status.DATA_LOSS);
        assert.match(error.details, new RegExp(`^pull ${image}: layer ${layer.digest} of ${image}: content does not match its digest ${layer.digest} \\(received sha256:[a-f0-9]{64}\\); nothing was stored$`));
        return true;
      });
      assert.deepEqual((await d.client().call('ListImages', {})).images, []);
      assert.equal(fs.existsSync(path.join(d.root, 'lib', 'images', 'content', 'blobs', 'sha256', layer.digest.slice(7))), false);
    });

    it('says DATA_LOSS, in zstd\'s words, for a layer whose zstd stream is corrupt though its digest matches', async () => {
      const registry = await registries.start();
      // Flip a byte mid-frame before the digest is taken: the registry serves it faithfully and
      // the content store accepts it; only decompression can tell.
      const pushed = await pushImage(registry, {
        repository: 'broken-zstd',
        tags: ['latest'],
        format: 'oci',
        compression: 'zstd',
        layers: [busyboxBaseLayer()],
        rewriteLayerBlob: (blob) => {
          const broken = Buffer.from(blob);
          const middle = Math.floor(broken.length / 2);
          broken[middle] = (broken[middle] ?? 0) ^ 0xff;
          return broken;
        },
      });
      const layer = pushed.layers[0];
      assert.ok(layer);
      const d = await daemons.start({ config: { 'insecure-registries': [registry.host] } });
      const image = `${registry.host}/broken-zstd:latest`;

      await assert.rejects(pull(d.client(), image), (error: grpc.ServiceError) => {
        assert.equal(error.code, grpc.status.DATA_LOSS);
        assert.match(error.details, new RegExp(`^pull ${image}: layer ${layer.diffId} cannot be decompressed or extracted: zstd exited with status 1: .*Decoding error`));
        return true;
      });
      assert.deepEqual((await d.client().call('ListImages', {})).images, []);
      const snapshots = path.join(d.root, 'lib', 'images', 'snapshots');
      assert.deepEqual(fs.readdirSync(snapshots), [], 'no snapshot, finished or half-made, is left');
    });

    it('refuses to build a zstd layer for a Docker schema 2 image', async () => {
      await assert.rejects(
        pushImage({ url: 'http://127.0.0.1:1' }, { repository: 'x', tags: ['latest'], layers: [[]], compression: 'zstd' }),
        /^Error: pushImage: zstd layers need format 'oci' \(Docker schema 2 has no zstd layer type\)$/,
      );
    });
  });

  describe('transient and permanent registry failures', () => {
    const blobGets = /^\/v2\/busybox\/blobs\/sha256:/;

    it('retries a blob that answers 503 twice, backing off 250 ms and then 1 s', async () => {
      const registry = await registries.start();
      const pushed = await pushBusybox(registry);
      const proxy = await proxies.start({ target: registry, rules: [{ method: 'GET', path: blobGets, status: 503, times: 2 }] });
      const d = await daemons.start({ config: { 'insecure-registries': [proxy.host] } });

      assert.equal((await pull(d.client(), `${proxy.host}/busybox:latest`)).image_ref, pushed.configDigest);
      // The config is the first blob a pull fetches: it failed twice, then came through.
      const configGets = proxy.requests.filter((r) => r.path === `/v2/busybox/blobs/${pushed.configDigest}`);
      assert.deepEqual(configGets.map((r) => [r.status, r.injected]), [[503, true], [503, true], [200, false]]);
      const [first, second, third] = configGets.map((r) => r.at);
      assert.ok(first !== undefined && second !== undefined && third !== undefined);
      assert.ok(second - first >= 240, `first backoff ${second - first} ms`);
      assert.ok(third - second >= 990, `second backoff ${third - second} ms`);
      const layerGets = proxy.requests.filter((r) => r.path === `/v2/busybox/blobs/${pushed.layers[0]?.digest}`);
      assert.deepEqual(layerGets.map((r) => r.status), [200]);
    });

    it('gives up with UNAVAILABLE after three 503s', async () => {
      const registry = await registries.start();
      const pushed = await pushBusybox(registry);
      const proxy = await proxies.start({ target: registry, rules: [{ method: 'GET', path: blobGets, status: 503, times: 5 }] });
      const d = await daemons.start({ config: { 'insecure-registries': [proxy.host] } });
      const image = `${proxy.host}/busybox:latest`;

      await assert.rejects(pull(d.client(), image), (error: grpc.ServiceError) => {
        assert.equal(error.code, grpc.status.UNAVAILABLE);
        assert.equal(
          error.details,
          `pull ${image}: blob ${pushed.configDigest} of busybox from ${proxy.host}: registry error 503: ` +
            `{"errors":[{"code":"UNAVAILABLE","message":"flaky proxy: injected 503 for GET /v2/busybox/blobs/${pushed.configDigest}"}]}`,
        );
        return true;
      });
      assert.equal(proxy.requests.filter((r) => r.injected).length, 3, 'three attempts, then no more');
      assert.deepEqual((await d.client().call('ListImages', {})).images, []);
    });

    it('says PERMISSION_DENIED, without retrying, when the registry answers 403 for the manifest', async () => {
      const registry = await registries.start();
      await pushBusybox(registry);
      const proxy = await proxies.start({ target: registry, rules: [{ path: /^\/v2\/busybox\/manifests\//, status: 403 }] });
      const d = await daemons.start({ config: { 'insecure-registries': [proxy.host] } });
      const image = `${proxy.host}/busybox:latest`;

      await assert.rejects(pull(d.client(), image), {
        code: grpc.status.PERMISSION_DENIED,
        details: `pull ${image}: manifest busybox:latest from ${proxy.host}: access denied (403 Forbidden)`,
      });
      assert.equal(proxy.requests.filter((r) => r.injected).length, 1);
    });
  });
});
