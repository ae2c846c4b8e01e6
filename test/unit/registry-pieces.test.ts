import assert from 'node:assert/strict';
import { chainIds, sha256Digest } from '../../core/images/digest';
import { pickPlatformManifest } from '../../core/images/platform';
import { parseAuthChallenge } from '../../core/images/registry/auth-challenge';
import { credentialsFromAuthConfig } from '../../core/images/registry/registry-credentials';
import { isInsecure, registryEndpoints } from '../../core/images/registry/registry-endpoints';
import { imageUser } from '../../core/services/images/image-message';

const settings = { registryMirrors: [] as string[], registryHostMirrors: {}, insecureRegistries: [] as string[] };

describe('registry client pieces', () => {
  it('parses Bearer and Basic challenges', () => {
    assert.deepEqual(parseAuthChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:app:pull"'), {
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:app:pull' },
    });
    assert.deepEqual(parseAuthChallenge('Basic realm="Registry Realm"'), { scheme: 'basic', params: { realm: 'Registry Realm' } });
    assert.equal(parseAuthChallenge('Negotiate abc'), undefined);
    assert.equal(parseAuthChallenge(undefined), undefined);
  });

  it('reads CRI AuthConfig, including the base64 auth field', () => {
    assert.deepEqual(credentialsFromAuthConfig({ auth: Buffer.from('alice:s3:cret').toString('base64') }), { username: 'alice', password: 's3:cret' });
    assert.deepEqual(credentialsFromAuthConfig({ username: 'bob', password: 'pw', identity_token: '', registry_token: 'tok' }), {
      username: 'bob',
      password: 'pw',
      registryToken: 'tok',
    });
    assert.throws(() => credentialsFromAuthConfig({ auth: Buffer.from('nocolon').toString('base64') }), { code: 'INVALID_ARGUMENT' });
  });

  it('orders endpoints: mirrors, then the registry; docker.io goes to registry-1', () => {
    const hub = registryEndpoints('docker.io', { ...settings, registryMirrors: ['https://mirror.example', 'http://127.0.0.1:5000'] });
    assert.deepEqual(hub.map((e) => [e.base.href, e.isMirror, e.insecureSkipVerify]), [
      ['https://mirror.example/', true, false],
      ['http://127.0.0.1:5000/', true, false],
      ['https://registry-1.docker.io/', false, false],
    ]);
    const k8s = registryEndpoints('registry.k8s.io', { ...settings, registryHostMirrors: { 'registry.k8s.io': ['http://127.0.0.1:5001'] } });
    assert.deepEqual(k8s.map((e) => e.base.href), ['http://127.0.0.1:5001/', 'https://registry.k8s.io/']);
  });

  it('tries HTTPS without verification, then HTTP, only for insecure registries', () => {
    const listed = registryEndpoints('registry.internal:5000', { ...settings, insecureRegistries: ['registry.internal:5000'] });
    assert.deepEqual(listed.map((e) => [e.base.href, e.insecureSkipVerify]), [
      ['https://registry.internal:5000/', true],
      ['http://registry.internal:5000/', true],
    ]);
    assert.deepEqual(registryEndpoints('quay.io', settings).map((e) => e.base.href), ['https://quay.io/']);
    assert.equal(isInsecure('127.0.0.1:5000', settings), false);
    assert.equal(isInsecure('127.0.0.1:5000', { insecureRegistries: ['127.0.0.1'] }), true);
    assert.equal(isInsecure('127.0.0.1:5000', { insecureRegistries: ['127.0.0.1:5000'] }), true);
    assert.equal(isInsecure('127.0.0.1:5001', { insecureRegistries: ['127.0.0.1:5000'] }), false);
  });

  it('picks the host platform from an index', () => {
    const manifests = [
      { mediaType: 'm', digest: 'sha256:arm', size: 1, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      { mediaType: 'm', digest: 'sha256:amd', size: 1, platform: { os: 'linux', architecture: 'amd64' } },
      { mediaType: 'm', digest: 'sha256:win', size: 1, platform: { os: 'windows', architecture: 'amd64' } },
    ];
    assert.equal(pickPlatformManifest(manifests, { os: 'linux', architecture: 'amd64' })?.digest, 'sha256:amd');
    assert.equal(pickPlatformManifest(manifests, { os: 'linux', architecture: 'arm64', variant: 'v8' })?.digest, 'sha256:arm');
    assert.equal(pickPlatformManifest(manifests, { os: 'linux', architecture: 's390x' }), undefined);
  });

  it('computes chain IDs as OCI defines them', () => {
    const a = sha256Digest('a');
    const b = sha256Digest('b');
    assert.deepEqual(chainIds([a, b]), [a, sha256Digest(`${a} ${b}`)]);
  });

  it('reports the image user as uid or username', () => {
    assert.deepEqual(imageUser(''), {});
    assert.deepEqual(imageUser('1234'), { uid: 1234 });
    assert.deepEqual(imageUser('1234:5678'), { uid: 1234 });
    assert.deepEqual(imageUser('daemon:staff'), { username: 'daemon' });
  });
});
