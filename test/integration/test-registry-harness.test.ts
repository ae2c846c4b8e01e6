import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { runProgram } from '../../core/host-programs/run-program';
import { busyboxBaseLayer, hostPlatform, MEDIA_TYPES, pushImage, sha256 } from '../support/images/image-builder';
import { buildLayerTar, listLayerTar } from '../support/images/layer-tar';
import { BUSYBOX_CONFIG, pushStandardImages } from '../support/images/standard-images';
import { useFlakyProxies } from '../support/registry/flaky-proxy';
import { useTestRegistries, type TestRegistry } from '../support/registry/test-registry';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';

// The registry harness and image builder, checked against an independent client (skopeo, from
// containers/image): what the builder says it pushed is what a real puller finds, and each auth
// mode lets the right clients in and keeps anonymous ones out.
// Needs docker-registry, busybox-static, skopeo and htpasswd (scripts/install-deps.sh) and openssl.

const CREDENTIALS = { username: 'tester', password: 's3cret-pass' };

describe('test registry harness', () => {
  const registries = useTestRegistries();
  const proxies = useFlakyProxies();
  let scratch: string;
  let skopeoEnv: NodeJS.ProcessEnv;

  beforeEach(() => {
    scratch = makeTempRoot('skopeo');
    // An empty auth file and a permissive policy of our own: the host's settings must not matter.
    const authFile = path.join(scratch, 'auth.json');
    fs.writeFileSync(authFile, '{"auths":{}}');
    fs.writeFileSync(path.join(scratch, 'policy.json'), '{"default":[{"type":"insecureAcceptAnything"}]}');
    skopeoEnv = { ...process.env, REGISTRY_AUTH_FILE: authFile };
  });

  afterEach(() => removeTempRoot(scratch));

  async function skopeo(args: string[]): Promise<string> {
    return (await runProgram('skopeo', args, { timeoutMs: 30_000, env: skopeoEnv })).stdout;
  }

  async function inspect(registry: TestRegistry, reference: string, extra: string[] = []): Promise<Record<string, unknown>> {
    return JSON.parse(await skopeo(['inspect', '--tls-verify=false', ...extra, `docker://${registry.host}/${reference}`])) as Record<string, unknown>;
  }

  describe('layer tars', () => {
    it('keep modes, owners and links exactly, add missing parents, and are reproducible', async () => {
      const entries = [
        { type: 'file' as const, path: '/srv/secret', content: 'x', mode: 0o000, uid: 1234, gid: 2000 },
        { type: 'hardlink' as const, path: '/srv/again', target: '/srv/secret' },
        { type: 'symlink' as const, path: '/srv/abs', target: '/srv/secret' },
        { type: 'dir' as const, path: '/srv/sub/', mode: 0o2750 },
      ];
      const tar = await buildLayerTar(entries);
      assert.ok(tar.equals(await buildLayerTar(entries)), 'the same entries give the same bytes');
      const members = (await listLayerTar(tar)).map(({ content, ...header }) => ({ ...header, size: content.length }));
      assert.deepEqual(members, [
        { name: 'srv/', type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0 },
        { name: 'srv/secret', type: 'file', mode: 0o000, uid: 1234, gid: 2000, size: 1 },
        { name: 'srv/again', type: 'link', mode: 0o644, uid: 0, gid: 0, linkname: 'srv/secret', size: 0 },
        { name: 'srv/abs', type: 'symlink', mode: 0o777, uid: 0, gid: 0, linkname: '/srv/secret', size: 0 },
        { name: 'srv/sub/', type: 'directory', mode: 0o2750, uid: 0, gid: 0, size: 0 },
      ]);
      await assert.rejects(buildLayerTar([{ type: 'file', path: 'etc/../../passwd', content: '' }]), /not a path inside a layer: "etc\/..\/..\/passwd"/);
    });
  });

  describe('a plain registry', () => {
    it('serves the standard images with the digests the builder computed', async () => {
      const registry = await registries.start();
      const images = await pushStandardImages(registry);

      for (const tag of ['latest', '1.36']) {
        const busybox = await inspect(registry, `busybox:${tag}`);
        assert.equal(busybox.Digest, images.busybox.manifestDigest);
        assert.deepEqual(busybox.Layers, images.busybox.layers.map((layer) => layer.digest));
        assert.equal(busybox.Architecture, hostPlatform().architecture);
        assert.deepEqual(busybox.Env, BUSYBOX_CONFIG.Env);
      }

      const ociManifest = JSON.parse(await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/busybox-oci:latest`])) as { mediaType: string; layers: { mediaType: string }[] };
      assert.equal(ociManifest.mediaType, MEDIA_TYPES.oci.manifest);
      assert.deepEqual(ociManifest.layers.map((layer) => layer.mediaType), [MEDIA_TYPES.oci.layerGzip]);

      const plainManifest = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/plain:latest`]);
      assert.equal(sha256(plainManifest), images.uncompressed.manifestDigest);
      const plainLayer = images.uncompressed.layers[0];
      assert.equal(plainLayer?.mediaType, MEDIA_TYPES.docker.layer);
      assert.equal(plainLayer.digest, plainLayer.diffId, 'an uncompressed layer is its own diffID');

      const numeric = (await inspect(registry, 'user-numeric:latest', ['--config'])) as { config: { User?: string } };
      assert.equal(numeric.config.User, '1234');
      const named = (await inspect(registry, 'user-named:latest', ['--config'])) as { config: { User?: string } };
      assert.equal(named.config.User, 'daemon');

      const multiLayer = await inspect(registry, 'multi-layer:latest');
      assert.deepEqual(multiLayer.Layers, images.multiLayer.layers.map((layer) => layer.digest));
      assert.equal(images.multiLayer.layers.length, 4);
      assert.ok(images.multiLayer.layers.some((layer) => layer.size > 20 * 1024 * 1024), 'one layer holds 20 MiB of incompressible bytes');

      // The registry keeps blobs where blobPath says, under their own digest.
      const baseLayer = images.busybox.layers[0];
      assert.ok(baseLayer);
      assert.equal(sha256(fs.readFileSync(registry.blobPath(baseLayer.digest))), baseLayer.digest);
      assert.equal(images.busybox.layers[0]?.digest, images.whiteout.layers[0]?.digest, 'the busybox base layer is shared');
    });

    it('gives skopeo copy the whiteout image, its top layer carrying the whiteout and opaque markers', async () => {
      const registry = await registries.start();
      const images = await pushStandardImages(registry);
      const target = path.join(scratch, 'whiteout');
      await skopeo(['copy', '--policy', path.join(scratch, 'policy.json'), '--src-tls-verify=false', `docker://${registry.host}/whiteout:latest`, `dir:${target}`]);

      const manifest = JSON.parse(fs.readFileSync(path.join(target, 'manifest.json'), 'utf8')) as { layers: { digest: string }[] };
      assert.equal(sha256(fs.readFileSync(path.join(target, 'manifest.json'))), images.whiteout.manifestDigest);
      assert.equal(manifest.layers.length, 3);
      const [base, first, second] = await Promise.all(
        manifest.layers.map(async (layer) => {
          const blob = fs.readFileSync(path.join(target, layer.digest.replace('sha256:', '')));
          assert.equal(sha256(blob), layer.digest);
          return listLayerTar(zlib.gunzipSync(blob));
        }),
      );
      const names = (members: { name: string }[] | undefined) => members?.map((member) => member.name);
      assert.deepEqual(names(first), ['data/', 'data/gone.txt', 'data/kept.txt', 'cache/', 'cache/old1', 'cache/old2']);
      assert.deepEqual(names(second), ['data/', 'data/.wh.gone.txt', 'cache/', 'cache/.wh..wh..opq', 'cache/new', 'data/added.txt']);

      const member = (name: string) => base?.find((entry) => entry.name === name);
      assert.deepEqual({ ...member('bin/busybox'), content: undefined }, { name: 'bin/busybox', type: 'file', mode: 0o755, uid: 0, gid: 0, content: undefined });
      assert.ok(member('bin/busybox')?.content.equals(fs.readFileSync('/bin/busybox')));
      assert.equal(member('bin/sh')?.linkname, 'busybox');
      assert.equal(member('tmp/')?.mode, 0o1777);
      assert.deepEqual([member('home/app/')?.uid, member('home/app/')?.gid], [1234, 1234]);
      assert.match(member('etc/group')?.content.toString() ?? '', /^extra:x:2000:app$/m);
    });

    it('resolves multi:latest to the host platform, in the index and in the platform manifest', async () => {
      const registry = await registries.start();
      const { multiArch } = await pushStandardImages(registry);
      const host = hostPlatform().architecture === 'arm64' ? multiArch.arm64 : multiArch.amd64;

      const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/multi:latest`]);
      assert.equal(sha256(raw), multiArch.indexDigest);
      const index = JSON.parse(raw) as { mediaType: string; manifests: { digest: string; platform: { architecture: string; variant?: string } }[] };
      assert.equal(index.mediaType, MEDIA_TYPES.docker.index);
      assert.deepEqual(
        index.manifests.map((entry) => [entry.platform.architecture, entry.platform.variant, entry.digest]),
        [
          ['amd64', undefined, multiArch.amd64.manifestDigest],
          ['arm64', 'v8', multiArch.arm64.manifestDigest],
        ],
      );

      // skopeo reports the digest of what the tag names (the index) but describes the image it
      // chose for this host: its layers are the host image's, whose top layer holds /platform.
      const chosen = await inspect(registry, 'multi:latest');
      assert.equal(chosen.Digest, multiArch.indexDigest);
      assert.equal(chosen.Architecture, hostPlatform().architecture);
      assert.deepEqual(chosen.Layers, host.layers.map((layer) => layer.digest));
      assert.notDeepEqual(multiArch.amd64.layers.at(-1)?.digest, multiArch.arm64.layers.at(-1)?.digest);

      const byDigest = await inspect(registry, `multi@${host.manifestDigest}`);
      assert.equal(byDigest.Digest, host.manifestDigest);
    });

    it('stops the registry, removes its storage, and can be stopped twice', async () => {
      const registry = await registries.start();
      assert.equal(await statusOf(`${registry.url}/v2/`), 200);
      await registry.stop();
      await registry.stop();
      assert.equal(fs.existsSync(registry.storageDir), false);
      await assert.rejects(statusOf(`${registry.url}/v2/`), /ECONNREFUSED/);
    });
  });

  describe('a registry with Basic auth', () => {
    it('refuses anonymous clients and serves the credentials', async () => {
      const registry = await registries.start({ basicAuth: CREDENTIALS });
      await assert.rejects(
        pushImage(registry, { repository: 'busybox', tags: ['latest'], layers: [busyboxBaseLayer()] }),
        /asks for Basic credentials and none were given/,
      );
      const pushed = await pushImage({ ...registry, auth: CREDENTIALS }, { repository: 'busybox', tags: ['latest'], layers: [busyboxBaseLayer()] });

      await assert.rejects(inspect(registry, 'busybox:latest'), /unauthorized: authentication required/);
      await assert.rejects(inspect(registry, 'busybox:latest', ['--creds', `${CREDENTIALS.username}:wrong`]), /unauthorized: authentication required/);
      const inspected = await inspect(registry, 'busybox:latest', ['--creds', `${CREDENTIALS.username}:${CREDENTIALS.password}`]);
      assert.equal(inspected.Digest, pushed.manifestDigest);
    });
  });

  describe('a registry with token auth', () => {
    it('challenges with Bearer, and accepts the tokens its token server issues', async () => {
      const registry = await registries.start({ tokenAuth: CREDENTIALS });
      const anonymous = await request(`${registry.url}/v2/`);
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.headers['www-authenticate'], `Bearer realm="${registry.tokenRealm}",service="test-registry"`);

      const basic = `Basic ${Buffer.from(`${CREDENTIALS.username}:${CREDENTIALS.password}`).toString('base64')}`;
      const refused = await request(`${registry.tokenRealm}?service=test-registry`, { Authorization: 'Basic d3Jvbmc6d3Jvbmc=' });
      assert.equal(refused.status, 401);
      const issued = await request(`${registry.tokenRealm}?service=test-registry&scope=repository:busybox:pull`, { Authorization: basic });
      assert.equal(issued.status, 200);
      const { token, access_token: accessToken } = JSON.parse(issued.body) as { token: string; access_token: string };
      assert.equal(accessToken, token);
      assert.equal(registry.tokenRequests, 1);
      assert.equal((await request(`${registry.url}/v2/`, { Authorization: `Bearer ${token}` })).status, 200);
      // A token for pull does not allow a push.
      const upload = await request(`${registry.url}/v2/busybox/blobs/uploads/`, { Authorization: `Bearer ${token}` }, 'POST');
      assert.equal(upload.status, 401);
    });

    it('lets the harness push through the Bearer flow and skopeo pull with credentials only', async () => {
      const registry = await registries.start({ tokenAuth: CREDENTIALS });
      const pushed = await pushImage({ ...registry, auth: CREDENTIALS }, { repository: 'busybox', tags: ['latest'], layers: [busyboxBaseLayer()] });
      assert.equal(registry.tokenRequests, 1, 'one token, for pull and push, serves the whole push');

      // Anonymous clients get no token at all: the token server wants the credentials.
      await assert.rejects(inspect(registry, 'busybox:latest'), /unable to retrieve auth token: invalid username\/password: unauthorized: bad or missing credentials/);
      await assert.rejects(
        pushImage(registry, { repository: 'other', tags: ['latest'], layers: [[]] }),
        /token server http:\/\/127\.0\.0\.1:\d+\/token answered 401/,
      );
      const inspected = await inspect(registry, 'busybox:latest', ['--creds', `${CREDENTIALS.username}:${CREDENTIALS.password}`]);
      assert.equal(inspected.Digest, pushed.manifestDigest);
    });
    it('trades an identity token for a token on the OAuth2 POST, and refuses a wrong one', async () => {
      const registry = await registries.start({ tokenAuth: { ...CREDENTIALS, identityToken: 'refresh-abc' } });
      const realm = registry.tokenRealm ?? '';
      const post = (fields: Record<string, string>, contentType = 'application/x-www-form-urlencoded') =>
        fetch(realm, { method: 'POST', headers: { 'Content-Type': contentType }, body: new URLSearchParams(fields).toString() });
      const form = { grant_type: 'refresh_token', refresh_token: 'refresh-abc', service: 'test-registry', scope: 'repository:busybox:pull', client_id: 'tester' };

      const granted = await post(form);
      assert.equal(granted.status, 200);
      const body = (await granted.json()) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'issued_at', 'scope']);
      assert.equal(body['scope'], 'repository:busybox:pull');
      assert.equal((await request(`${registry.url}/v2/`, { Authorization: `Bearer ${String(body['access_token'])}` })).status, 200);
      assert.deepEqual(registry.tokenGrants, [{ grantType: 'refresh_token', service: 'test-registry', scopes: ['repository:busybox:pull'], clientId: 'tester' }]);

      assert.equal((await post({ ...form, refresh_token: 'refresh-xyz' })).status, 401);
      assert.equal((await post({ ...form, grant_type: 'password' })).status, 400);
      assert.equal((await post({ ...form, client_id: '' })).status, 400);
      assert.equal((await post(form, 'application/json')).status, 400);
      assert.equal(registry.tokenRequests, 1, 'only the right refresh token got a token');
    });
  });

  describe('zstd layers', () => {
    it('are pushed as OCI tar+zstd blobs that skopeo reads and zstd decompresses to their diff IDs', async () => {
      const registry = await registries.start();
      const pushed = await pushImage(registry, { repository: 'zstd', tags: ['latest'], format: 'oci', compression: 'zstd', layers: [[{ type: 'file', path: '/hello', content: 'hi' }]] });
      const manifest = JSON.parse(await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/zstd:latest`])) as { layers: { mediaType: string; digest: string }[] };
      assert.deepEqual(manifest.layers, [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', size: pushed.layers[0]?.size, digest: pushed.layers[0]?.digest }]);
      const layer = pushed.layers[0];
      assert.ok(layer);
      const tarPath = path.join(scratch, 'layer.tar');
      await runProgram('zstd', ['-q', '-d', '-o', tarPath, registry.blobPath(layer.digest)]);
      assert.equal(sha256(fs.readFileSync(tarPath)), layer.diffId);
      assert.deepEqual((await listLayerTar(fs.readFileSync(tarPath))).map((member) => member.name), ['hello']);
      await assert.rejects(pushImage(registry, { repository: 'x', tags: [], layers: [[]], compression: 'zstd' }), /zstd layers need format 'oci'/);
    });
  });

  describe('a flaky proxy', () => {
    it('forwards pushes and pulls unchanged, and fails exactly the requests its rules name', async () => {
      const registry = await registries.start();
      const proxy = await proxies.start({ target: registry, rules: [{ method: 'GET', path: /\/manifests\/latest$/, status: 503, times: 1 }] });
      // A push streams request bodies through it and follows the upload Location it passes on.
      const pushed = await pushImage({ url: proxy.url }, { repository: 'busybox', tags: ['latest'], layers: [busyboxBaseLayer()] });
      assert.ok(proxy.requests.some((r) => r.method === 'POST' && r.status === 202), 'the upload started through the proxy');
      assert.ok(proxy.requests.some((r) => r.method === 'PUT' && r.path.includes('/blobs/uploads/') && r.status === 201), 'and finished through it');

      assert.equal((await request(`${proxy.url}/v2/busybox/manifests/latest`)).status, 503);
      const manifest = await request(`${proxy.url}/v2/busybox/manifests/latest`, { Accept: MEDIA_TYPES.docker.manifest });
      assert.equal(manifest.status, 200);
      assert.equal(manifest.headers['docker-content-digest'], pushed.manifestDigest);
      assert.equal(sha256(manifest.body), pushed.manifestDigest);
      const inspected = await inspect({ ...registry, host: proxy.host }, 'busybox:latest');
      assert.equal(inspected.Digest, pushed.manifestDigest);
      assert.deepEqual(proxy.requests.filter((r) => r.injected).map((r) => `${r.method} ${r.path} ${r.status}`), ['GET /v2/busybox/manifests/latest 503']);
    });
  });

  describe('a registry with TLS', () => {
    it('serves HTTPS with a certificate that clients trust through the CA file', async () => {
      const registry = await registries.start({ tls: true });
      assert.match(registry.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.ok(registry.caCertPath);
      const pushed = await pushImage(registry, { repository: 'busybox', tags: ['latest'], layers: [busyboxBaseLayer()] });

      const reference = `docker://${registry.host}/busybox:latest`;
      await assert.rejects(skopeo(['inspect', reference]), /x509: certificate signed by unknown authority/);
      const certDir = path.join(scratch, 'certs');
      fs.mkdirSync(certDir);
      fs.copyFileSync(registry.caCertPath, path.join(certDir, 'ca.crt'));
      const inspected = JSON.parse(await skopeo(['inspect', '--cert-dir', certDir, reference])) as { Digest: string };
      assert.equal(inspected.Digest, pushed.manifestDigest);
    });
  });
});

function request(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function statusOf(url: string): Promise<number> {
  return (await request(url)).status;
}
