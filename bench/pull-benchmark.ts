import 'reflect-metadata';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CriClient } from '../cli/cri-client';
import { validateDaemonConfig } from '../config/load-config';
import { createDaemon } from '../core/daemon/create-daemon';
import { runProgram } from '../core/host-programs/run-program';
import { unpackLayer } from '../core/images/layer-unpacker';
import { createLogger } from '../core/log/logger';
import { builtinPlugins } from '../plugins/builtins';
import { busyboxBaseLayer, pushImage } from '../test/support/images/image-builder';
import { BUSYBOX_CONFIG, multiLayerLayers } from '../test/support/images/standard-images';
import { startTestRegistry } from '../test/support/registry/test-registry';
import { makeTempRoot, removeTempRoot } from '../test/support/temp-root';
import { testDaemonConfig } from '../test/support/test-daemon';

// Pull benchmark: a 4-layer image (one layer of 20 MiB incompressible bytes) from a local
// docker-registry, pulled cold (empty store) and warm (already present), beside `skopeo copy`
// of the same image to a directory as the floor; and layer unpack throughput beside GNU tar
// alone. Prints a table. Run: npm run bench

const ITERATIONS = 5;

interface Row {
  readonly measure: string;
  readonly caisson: number;
  readonly floor: number;
  readonly unit: 'ms' | 'MB/s';
}

async function main(): Promise<void> {
  const registry = await startTestRegistry();
  const work = makeTempRoot('bench');
  try {
    const pushed = await pushImage(registry, { repository: 'multi-layer', tags: ['latest'], layers: multiLayerLayers(busyboxBaseLayer()), config: BUSYBOX_CONFIG });
    const reference = `${registry.host}/multi-layer:latest`;
    const rows: Row[] = [];

    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      const root = path.join(work, `daemon-${i}`);
      fs.mkdirSync(root);
      const config = validateDaemonConfig({ ...testDaemonConfig(root), 'insecure-registries': [registry.host] }, 'bench');
      const daemon = createDaemon({ config, plugins: builtinPlugins, logger: createLogger('error', () => undefined) });
      await daemon.start();
      const client = new CriClient(config.hosts[0] ?? '');
      try {
        cold.push(await timed(() => client.call('PullImage', { image: { image: reference } })));
        warm.push(await timed(() => client.call('PullImage', { image: { image: reference } })));
      } finally {
        client.close();
        await daemon.stop();
      }
    }

    const skopeo: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      const target = path.join(work, `skopeo-${i}`);
      skopeo.push(await timed(() => runProgram('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${reference}`, `dir:${target}`], { timeoutMs: 120_000 })));
    }
    rows.push({ measure: `pull cold, p50 of ${ITERATIONS} (floor: skopeo copy to dir)`, caisson: median(cold), floor: median(skopeo), unit: 'ms' });
    rows.push({ measure: `pull warm, p50 of ${ITERATIONS} (floor: skopeo copy to dir, cold)`, caisson: median(warm), floor: median(skopeo), unit: 'ms' });

    // Unpack throughput on the big layer's blob as skopeo stored it: Caisson's unpacker (gunzip,
    // diff ID check, tar, whiteouts) against gunzip | tar alone.
    const big = pushed.layers[2];
    if (!big) throw new Error('the benchmark image has no third layer');
    const blob = path.join(work, 'skopeo-0', big.digest.replace('sha256:', ''));
    const uncompressedMb = (await runProgram('sh', ['-c', `gzip -dc < '${blob}' | wc -c`])).stdout.trim();
    const megabytes = Number(uncompressedMb) / 1e6;
    const caissonUnpack: number[] = [];
    const tarUnpack: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      const a = path.join(work, `unpack-caisson-${i}`);
      caissonUnpack.push(await timed(() => unpackLayer(blob, 'gzip', big.diffId, a)));
      const b = path.join(work, `unpack-tar-${i}`);
      fs.mkdirSync(b);
      tarUnpack.push(await timed(() => runProgram('tar', ['-xzf', blob, '-C', b])));
      fs.rmSync(a, { recursive: true, force: true });
      fs.rmSync(b, { recursive: true, force: true });
    }
    rows.push({ measure: `unpack ${megabytes.toFixed(1)} MB layer, p50 (floor: tar -xzf)`, caisson: megabytes / (median(caissonUnpack) / 1000), floor: megabytes / (median(tarUnpack) / 1000), unit: 'MB/s' });

    printTable(rows);
  } finally {
    removeTempRoot(work);
    await registry.stop();
  }
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function printTable(rows: readonly Row[]): void {
  const header = ['measure', 'caisson', 'floor', 'caisson/floor'];
  const lines = rows.map((r) => [r.measure, `${r.caisson.toFixed(1)} ${r.unit}`, `${r.floor.toFixed(1)} ${r.unit}`, (r.caisson / r.floor).toFixed(2)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const format = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  process.stdout.write(`${format(header)}\n| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |\n${lines.map(format).join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`pull benchmark failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
