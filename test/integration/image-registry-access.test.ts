import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { busyboxBaseLayer, pushImage, type PushedImage } from '../support/images/image-builder';
import { BUSYBOX_CONFIG } from '../support/images/standard-images';
import { useTestRegistries, type TestRegistry } from '../support/registry/test-registry';
import { useTestDaemons } from '../support/test-daemon';

// How the image service reaches registries: Basic and Bearer-token auth with every CRI
// AuthConfig form, TLS with and without verification, and mirrors. Registries are real
// docker-registry processes on 127.0.0.1; no test reaches any other address.

describe('image pulls: registry access', function () {
  this.timeout(60_000);
  const registries = useTestRegistries();
  const daemons = useTestDaemons();
  const credentials = { username: 'alice', password: 'wonderland' };

  const pushBusybox = (registry: TestRegistry, repository = 'busybox', auth?: typeof credentials): Promise<PushedImage> =>
    pushImage({ ...registry, ...(auth ? { auth } : {}) }, { repository, tags: ['latest'], layers: [busyboxBaseLayer()], config: BUSYBOX_CONFIG });

  describe('Basic auth', () => {
    it('needs credentials, refuses wrong ones, and takes username/password or the base64 auth field', async () => {
      const registry = await registries.start({ basicAuth: credentials });
      const pushed = await pushBusybox(registry, 'busybox', credentials);
      const d = await daemons.start({ config: { 'insecure-registries': [registry.host] } });
      const client = d.client();
      const image = { image: `${registry.host}/busybox:latest` };
      await assert.rejects(client.call('PullImage', { image }), {
        code: grpc.status.UNAUTHENTICATED,
        details: `pull ${registry.host}/busybox:latest: registry ${registry.host} requires credentials (Basic auth) and none were given`,
      });
      await assert.rejects(client.call('PullImage', { image, auth: { username: 'alice', password: 'wrong' } }), {
        code: grpc.status.UNAUTHENTICATED,
        details: `pull ${registry.host}/busybox:latest: manifest busybox:latest from ${registry.host}: the registry refused the credentials (401 Unauthorized)`,
      });
      assert.equal((await client.call('PullImage', { image, auth: credentials })).image_ref, pushed.configDigest);
      await client.call('RemoveImage', { image });
      const auth = Buffer.from('alice:wonderland').toString('base64');
      assert.equal((await client.call('PullImage', { image, auth: { auth } })).image_ref, pushed.configDigest);
    });
  });

  describe('Bearer tokens', () => {
    it('fetches a token from the realm with the credentials', async () => {
      const registry = await registries.start({ tokenAuth: credentials });
      const pushed = await pushBusybox(registry, 'busybox', credentials);
      const before = registry.tokenRequests;
      const d = await daemons.start({ config: { 'insecure-registries': [registry.host] } });
      const image = { image: `${registry.host}/busybox:latest` };
      assert.equal((await d.client().call('PullImage', { image, auth: credentials })).image_ref, pushed.configDigest);
      assert.ok(registry.tokenRequests > before, 'the token server issued a token for the pull');
    });

    it('says which credentials the token service refused', async () => {
      const registry = await registries.start({ tokenAuth: credentials });
      await pushBusybox(registry, 'busybox', credentials);
      const d = await daemons.start({ config: { 'insecure-registries': [registry.host] } });
      const image = { image: `${registry.host}/busybox:latest` };
      await assert.rejects(d.client().call('PullImage', { image, auth: { username: 'alice', password: 'nope' } }), {
        code: grpc.status.UNAUTHENTICATED,
        details: `pull ${registry.host}/busybox:latest: token service ${new URL(registry.tokenRealm ?? '').origin} of registry ${registry.host} refused the credentials of user "alice" (401)`,
      });
      await assert.rejects(d.client().call('PullImage', { image }), {
        code: grpc.status.UNAUTHENTICATED,
        details: `pull ${registry.host}/busybox:latest: token service ${new URL(registry.tokenRealm ?? '').origin} of registry ${registry.host} refused anonymous access (401)`,
      });
    });

    it('uses a registry_token as the bearer token itself', async () => {
      const registry = await registries.start({ tokenAuth: credentials });
      const pushed = await pushBusybox(registry, 'busybox', credentials);
      // Obtain a token the way a kubelet credential provider would, then hand it over.
      const realm = new URL(registry.tokenRealm ?? '');
      realm.searchParams.set('service', 'test-registry');
      realm.searchParams.set('scope', 'repository:busybox:pull');
      const response = await fetch(realm, { headers: { Authorization: `Basic ${Buffer.from('alice:wonderland').toString('base64')}` } });
      const { token } = (await response.json()) as { token: string };
      const issued = registry.tokenRequests;
      const d = await daemons.start({ config: { 'insecure-registries': [registry.host] } });
      const image = { image: `${registry.host}/busybox:latest` };
      assert.equal((await d.client().call('PullImage', { image, auth: { registry_token: token } })).image_ref, pushed.configDigest);
      assert.equal(registry.tokenRequests, issued, 'no token was fetched by the daemon');
    });
  });

  describe('TLS', () => {
    it('verifies certificates unless the registry is listed in "insecure-registries"', async () => {
      const registry = await registries.start({ tls: true });
      const pushed = await pushBusybox(registry);
      const image = { image: `${registry.host}/busybox:latest` };
      const strict = await daemons.start();
      await assert.rejects(strict.client().call('PullImage', { image }), (error: grpc.ServiceError) => {
        assert.equal(error.code, grpc.status.UNAVAILABLE);
        assert.match(error.details, new RegExp(`^pull ${registry.host}/busybox:latest: registry ${registry.host} is unreachable over https: self.signed certificate`));
        return true;
      });
      const trusting = await daemons.start({ config: { 'insecure-registries': [registry.host] } });
      assert.equal((await trusting.client().call('PullImage', { image })).image_ref, pushed.configDigest);
    });
  });

  describe('mirrors', () => {
    it('serves registry.k8s.io images from a per-registry mirror, skipping a mirror that fails', async () => {
      const mirror = await registries.start();
      const pushed = await pushBusybox(mirror, 'pause');
      const d = await daemons.start({
        config: { 'registry-host-mirrors': { 'registry.k8s.io': ['http://127.0.0.1:1', mirror.url] } },
      });
      const { image_ref } = await d.client().call('PullImage', { image: { image: 'registry.k8s.io/pause:latest' } });
      assert.equal(image_ref, pushed.configDigest);
      const { image } = await d.client().call('ImageStatus', { image: { image: 'registry.k8s.io/pause:latest' } });
      assert.deepEqual(image?.repo_tags, ['registry.k8s.io/pause:latest']);
      assert.ok(d.logs.some((line) => line.includes('endpoint http://127.0.0.1:1/ failed; trying the next')));
    });

    it('serves docker.io images from "registry-mirrors"', async () => {
      const mirror = await registries.start();
      const pushed = await pushBusybox(mirror, 'library/busybox');
      const d = await daemons.start({ config: { 'registry-mirrors': [mirror.url] } });
      assert.equal((await d.client().call('PullImage', { image: { image: 'busybox' } })).image_ref, pushed.configDigest);
      const { image } = await d.client().call('ImageStatus', { image: { image: 'docker.io/library/busybox:latest' } });
      assert.deepEqual(image?.repo_tags, ['docker.io/library/busybox:latest']);
    });
  });
});
