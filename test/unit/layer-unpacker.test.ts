import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { sha256Digest } from '../../core/images/digest';
import { unpackLayer } from '../../core/images/layer-unpacker';
import { buildLayerTar } from '../support/images/layer-tar';

// unpackLayer with real GNU tar, on layers shaped as registries serve them.

describe('unpackLayer', () => {
  let dir = '';
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'caisson-unpack-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  // GNU tar exits at the end-of-archive blocks without reading the zero records after them, so
  // writing the rest of the stream hit EPIPE ("Premature close"): critest saw it on small layers
  // at random, where a short pipe read put the end blocks before their padding.
  it('unpacks a layer whose stream goes on past the end of the archive, and digests all of it', async () => {
    const archive = Buffer.concat([await buildLayerTar([{ type: 'file', path: 'etc/motd', content: 'hello\n' }]), Buffer.alloc(4 * 1024 * 1024)]);
    const blob = path.join(dir, 'layer.tar.gz');
    fs.writeFileSync(blob, zlib.gzipSync(archive));
    for (let i = 0; i < 5; i++) {
      const target = path.join(dir, `rootfs-${i}`);
      const result = await unpackLayer(blob, 'gzip', sha256Digest(archive), target);
      assert.equal(result.uncompressedSize, archive.length);
      assert.equal(fs.readFileSync(path.join(target, 'etc/motd'), 'utf8'), 'hello\n');
    }
  });

  it('still refuses such a layer when the bytes after the archive do not match the diff ID', async () => {
    const archive = Buffer.concat([await buildLayerTar([{ type: 'file', path: 'a', content: 'a' }]), Buffer.alloc(1024 * 1024)]);
    const blob = path.join(dir, 'layer.tar');
    fs.writeFileSync(blob, archive);
    const digestOfArchiveAlone = sha256Digest(archive.subarray(0, archive.length - 1024 * 1024));
    await assert.rejects(unpackLayer(blob, 'none', digestOfArchiveAlone, path.join(dir, 'rootfs')), /does not match its diff ID/);
  });
});
