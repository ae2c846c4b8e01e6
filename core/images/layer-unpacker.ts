import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Duplex, Readable, Writable } from 'node:stream';
import { DataLossError, ProgramError } from '../errors';
import { runProgram } from '../host-programs/run-program';
import { DigestingStream } from './digest';
import type { LayerCompression } from './media-types';

// Unpacks one layer blob into a directory that overlayfs can use as a lower layer: decompress,
// check the uncompressed digest (the diff ID) on the way, extract with GNU tar (owners, modes,
// xattrs, device nodes, hard links; it defers unsafe symlinks itself), then turn the OCI
// whiteout files into overlayfs whiteouts: ".wh.<name>" becomes a 0/0 character device and
// ".wh..wh..opq" marks its directory opaque (trusted.overlay.opaque=y).

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';

export interface UnpackResult {
  /** Bytes of the uncompressed tar stream. */
  readonly uncompressedSize: number;
}

export async function unpackLayer(blobPath: string, compression: LayerCompression, expectedDiffId: string, targetDir: string): Promise<UnpackResult> {
  fs.mkdirSync(targetDir, { recursive: true, mode: 0o755 });
  const digester = new DigestingStream();
  const tar = spawn('tar', ['-x', '-f', '-', '-C', targetDir, '--numeric-owner', '--same-owner', '--preserve-permissions', '--xattrs', '--xattrs-include=*'], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  tar.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const tarExit = new Promise<number | null>((resolve, reject) => {
    tar.once('error', reject);
    tar.once('close', resolve);
  });
  const stages: (NodeJS.ReadableStream | NodeJS.ReadWriteStream | NodeJS.WritableStream)[] = [fs.createReadStream(blobPath)];
  if (compression === 'gzip') stages.push(zlib.createGunzip());
  if (compression === 'zstd') stages.push(zstdDecompressor());
  try {
    await pipeline([...stages, digester, feedUntilClosed(tar.stdin)]);
  } catch (error) {
    tar.kill('SIGKILL');
    await tarExit.catch(() => undefined);
    throw new DataLossError(`layer ${expectedDiffId} cannot be decompressed or extracted: ${(error as Error).message}${stderr ? `: ${stderr.trim()}` : ''}`);
  }
  const code = await tarExit;
  if (code !== 0) throw new ProgramError('tar', ['-x', '-C', targetDir], code, stderr, `exited with status ${code}`);
  const diffId = digester.digest();
  if (diffId !== expectedDiffId) {
    throw new DataLossError(`layer content does not match its diff ID ${expectedDiffId} (unpacked ${diffId})`);
  }
  await convertWhiteouts(targetDir);
  return { uncompressedSize: digester.bytes };
}

/**
 * tar's stdin, as a stream that outlives it. GNU tar stops reading at the end-of-archive blocks
 * and exits, and on a pipe it may see them in a short read before the zero padding after them
 * has arrived; writing on would fail with EPIPE ("Premature close") although tar got the whole
 * archive. Once tar has closed its input the rest is still read (the diff ID covers the whole
 * stream) and dropped; tar's exit status says whether the archive was whole.
 */
function feedUntilClosed(stdin: Writable): Writable {
  let closed = false;
  const markClosed = (): void => {
    closed = true;
  };
  stdin.on('error', markClosed);
  stdin.on('close', markClosed);
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (closed) callback();
      else stdin.write(chunk, () => callback());
    },
    final(callback) {
      if (closed) callback();
      else stdin.end(() => callback());
    },
  });
}

/**
 * zstd layers go through Debian's zstd: Node 20 has no zstd in zlib. Its output ends only once
 * zstd has exited 0, so a corrupt stream fails here, with zstd's own words, rather than reaching
 * tar as a short archive; and a zstd that cannot start is an error, not an uncaught event.
 */
function zstdDecompressor(): NodeJS.ReadWriteStream {
  const child = spawn('zstd', ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', (error) => reject(new Error(`zstd failed to start: ${error.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`zstd ${signal ? `was killed by ${signal}` : `exited with status ${code}`}${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
    });
  });
  // Nobody awaits `exited` when the pipeline fails elsewhere first (tar, the blob file).
  exited.catch(() => undefined);
  const output = async function* (): AsyncGenerator<Buffer> {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) yield chunk;
    await exited;
  };
  return Duplex.from({ writable: child.stdin, readable: Readable.from(output(), { objectMode: false }) });
}

async function convertWhiteouts(root: string): Promise<void> {
  const { stdout } = await runProgram('find', [root, '-name', `${WHITEOUT_PREFIX}*`, '-print0'], { maxOutputBytes: 64 * 1024 * 1024 });
  for (const found of stdout.split('\0').filter(Boolean)) {
    const dir = path.dirname(found);
    const name = path.basename(found);
    fs.rmSync(found, { force: true });
    if (name === OPAQUE_MARKER) {
      await runProgram('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', dir]);
    } else {
      const hidden = path.join(dir, name.slice(WHITEOUT_PREFIX.length));
      fs.rmSync(hidden, { recursive: true, force: true });
      await runProgram('mknod', ['-m', '000', hidden, 'c', '0', '0']);
    }
  }
}
