import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { buildLayerTar } from '../support/images/layer-tar';
import { startHostileRegistry, type HostileRegistry } from '../support/registry/hostile-registry';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';
import { useTestDaemons, type TestDaemon } from '../support/test-daemon';

// Pulls from a registry that lies: manifests, configs and indexes crafted to climb out of the
// content store or to pass off other content. Each pull must fail with DATA_LOSS naming what was
// wrong, record no image, and read or write nothing outside the daemon's roots.

const sha = (algorithm: 'sha256' | 'sha512', data: Buffer | string): string => `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

describe('pulling from a hostile registry', function () {
  this.timeout(60_000);
  const daemons = useTestDaemons();
  let registry: HostileRegistry;
  let outside: string;
  let d: TestDaemon;

  beforeEach(async () => {
    registry = await startHostileRegistry();
    outside = makeTempRoot('outside-the-roots');
    d = await daemons.start({ config: { 'insecure-registries': [registry.host] } });
  });
  afterEach(async () => {
    await registry.stop();
    removeTempRoot(outside);
  });

  /** A digest-shaped name that, joined to the blob store's folder, lands on `target`. */
  const climbingTo = (target: string): string => `sha256:${'../'.repeat(24)}${target.slice(1)}`;

  /** A well-formed one-layer image, served under its real digests; `edit` may change the manifest and config. */
  const serveImage = async (repository: string, edit: { manifest?: (m: Record<string, any>) => void; config?: (c: Record<string, any>) => void } = {}) => {
    const tar = await buildLayerTar([{ type: 'file', path: 'hello', content: 'hello\n' }]);
    const layer = zlib.gzipSync(tar);
    const config: Record<string, any> = { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha('sha256', tar)] } };
    edit.config?.(config);
    const configBytes = JSON.stringify(config);
    const manifest: Record<string, any> = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha('sha256', configBytes), size: Buffer.byteLength(configBytes) },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha('sha256', layer), size: layer.length }],
    };
    edit.manifest?.(manifest);
    const manifestBytes = JSON.stringify(manifest);
    registry.objects.set(`/v2/${repository}/blobs/${sha('sha256', configBytes)}`, { body: configBytes });
    registry.objects.set(`/v2/${repository}/blobs/${sha('sha256', layer)}`, { body: layer });
    registry.objects.set(`/v2/${repository}/manifests/latest`, { body: manifestBytes, mediaType: OCI_MANIFEST });
    return { manifestBytes, configBytes };
  };

  const serveIndex = (repository: string, entries: { digest: string; size: number }[]): void => {
    const index = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: entries.map((entry) => ({ mediaType: OCI_MANIFEST, ...entry, platform: { os: 'linux', architecture: 'amd64' } })),
    };
    registry.objects.set(`/v2/${repository}/manifests/multi`, { body: JSON.stringify(index), mediaType: OCI_INDEX });
  };

  /** The pull fails DATA_LOSS with `details`, no image is recorded, every stored blob has a digest's name. */
  const refused = async (image: string, details: RegExp): Promise<void> => {
    const client = d.client();
    await assert.rejects(client.call('PullImage', { image: { image } }), (error: grpc.ServiceError) => {
      assert.equal(error.code, grpc.status.DATA_LOSS, error.details);
      assert.match(error.details, details);
      return true;
    });
    assert.deepEqual((await client.call('ListImages', {})).images, []);
    const blobs = path.join(d.root, 'lib', 'images', 'content', 'blobs', 'sha256');
    for (const name of fs.existsSync(blobs) ? fs.readdirSync(blobs) : []) assert.match(name, /^[a-f0-9]{64}$/);
    assert.deepEqual(fs.readdirSync(outside).sort(), ['config.json', 'layer'], 'nothing was written outside the roots');
    await client.call('Version', {});
  };

  const plantOutside = (): { config: string; layer: string } => {
    // What the climbing digests point at: a readable config and layer, as an attacker would plant
    // them (or as any file on the host would be read). The old store trusted an existing path.
    const config = path.join(outside, 'config.json');
    fs.writeFileSync(config, JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    const layer = path.join(outside, 'layer');
    fs.writeFileSync(layer, 'not a layer');
    return { config, layer };
  };

  it('refuses a config descriptor whose digest climbs out of the content store', async () => {
    const planted = plantOutside();
    await serveImage('climb-config', { manifest: (m) => (m['config'].digest = climbingTo(planted.config)) });
    await refused(`${registry.host}/climb-config:latest`, /the config descriptor in the manifest of .*climb-config:latest has digest "sha256:\.\.\/\.\.\/.*", which is not sha256:<64 lowercase hex digits>/);
  });

  it('refuses a layer whose digest climbs out of the content store', async () => {
    const planted = plantOutside();
    await serveImage('climb-layer', { manifest: (m) => (m['layers'][0].digest = climbingTo(planted.layer)) });
    await refused(`${registry.host}/climb-layer:latest`, /layer 0 in the manifest of .*climb-layer:latest has digest "sha256:\.\.\//);
  });

  it('refuses a diff ID that climbs out of the snapshot store, and other digest forms', async () => {
    plantOutside();
    await serveImage('climb-diff', { config: (c) => (c['rootfs'].diff_ids = [climbingTo(outside)]) });
    await refused(`${registry.host}/climb-diff:latest`, /diff ID 0 in the config of .*climb-diff:latest has digest "sha256:\.\.\//);
    await serveImage('upper-hex', { manifest: (m) => (m['layers'][0].digest = m['layers'][0].digest.toUpperCase().replace('SHA256', 'sha256')) });
    await refused(`${registry.host}/upper-hex:latest`, /layer 0 in the manifest of .* has digest "sha256:[A-F0-9]{64}", which is not/);
    await serveImage('negative-size', { manifest: (m) => (m['layers'][0].size = -1) });
    await refused(`${registry.host}/negative-size:latest`, /layer 0 in the manifest of .* has size -1, which is not a byte count/);
  });

  it('refuses a manifest or a config that is not a JSON object', async () => {
    plantOutside();
    registry.objects.set('/v2/garbage/manifests/latest', { body: '{"schemaVersion": 2, "layers": [', mediaType: OCI_MANIFEST });
    await refused(`${registry.host}/garbage:latest`, /manifest garbage:latest from .* is not JSON: /);
    await serveImage('array-config');
    const array = '[1, 2]';
    registry.objects.set(`/v2/array-config/blobs/${sha('sha256', array)}`, { body: array });
    const manifest = JSON.parse(registry.objects.get('/v2/array-config/manifests/latest')?.body.toString() ?? '{}');
    manifest.config = { ...manifest.config, digest: sha('sha256', array), size: array.length };
    registry.objects.set('/v2/array-config/manifests/latest', { body: JSON.stringify(manifest), mediaType: OCI_MANIFEST });
    await refused(`${registry.host}/array-config:latest`, /the config of .*array-config:latest is not a JSON object/);
  });

  it('verifies index entries whatever their digest algorithm, and refuses unknown or climbing ones', async () => {
    plantOutside();
    const { manifestBytes } = await serveImage('multi');
    const size = Buffer.byteLength(manifestBytes);
    const sha512 = sha('sha512', manifestBytes);
    registry.objects.set(`/v2/multi/manifests/${sha512}`, { body: manifestBytes, mediaType: OCI_MANIFEST });

    // An entry named by sha512 whose registry serves other bytes under it.
    const lying = sha('sha512', 'something else');
    registry.objects.set(`/v2/multi/manifests/${lying}`, { body: manifestBytes, mediaType: OCI_MANIFEST });
    serveIndex('multi', [{ digest: lying, size }]);
    await refused(`${registry.host}/multi:multi`, new RegExp(`manifest multi:${lying} from .*: content does not match its digest \\(received ${sha512}\\)`));

    serveIndex('multi', [{ digest: `md5:${'0'.repeat(32)}`, size }]);
    await refused(`${registry.host}/multi:multi`, /manifest 0 in the index of .* has digest "md5:0+", which is not sha256:<64 lowercase hex digits> or sha512:<128 lowercase hex digits>/);

    serveIndex('multi', [{ digest: climbingTo(outside), size }]);
    await refused(`${registry.host}/multi:multi`, /manifest 0 in the index of .* has digest "sha256:\.\.\//);

    // The honest sha512 entry pulls.
    serveIndex('multi', [{ digest: sha512, size }]);
    const client = d.client();
    await client.call('PullImage', { image: { image: `${registry.host}/multi:multi` } });
    assert.equal((await client.call('ListImages', {})).images?.length, 1);
  });
});
