import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { CriClient } from '../cli/cri-client';
import { runProgram } from '../core/host-programs/run-program';
import { containerConfig, podConfig, runPod, startContainer } from '../test/support/pod-fixtures';
import { makeTempRoot } from '../test/support/temp-root';
import {
  catchInterrupts,
  checkInterrupted,
  deleteAllRunc,
  expectNoRuncContainers,
  formatMib,
  formatMibChange,
  MIB,
  percentile,
  prepareRuncBundle,
  printTable,
  RPC_TIMEOUT_MS,
  runCleanups,
  runcRunDetached,
  RUNC_TIMEOUT_MS,
  startBenchDaemon,
  type Cleanup,
} from './bench-support';
import { PayloadCheck, runcCat, sendPayload, spdyCatExec, wsExec } from './exec-sessions';
import { MemoryWatch, type MemoryStage } from './memory-watch';

// Exec benchmark: commands run in one running busybox `sleep 3600` container of an in-process
// caissond, beside the floor: `runc exec` straight into a `sleep 3600` container this benchmark
// started with `runc run -d` (no CRI, no streaming server, no daemon). Measures
// - ExecSync `true` (one CRI round trip) and a streaming Exec of `true` over WebSocket (the Exec
//   RPC, the v5.channel.k8s.io session, its Status on channel 3 and the close), both beside
//   `runc exec <id> true`;
// - 64 MiB of random bytes through `cat` on a streaming Exec, stdin to stdout, over WebSocket (v5,
//   stdin half-closed with [255, 0]) and over SPDY/3.1 (a client that speaks like kubectl's),
//   beside `runc exec <id> cat` with the same bytes piped to its stdin (runc has no -i: without
//   a terminal the process always gets runc's own stdin); output is checked byte for byte as it
//   arrives.
// Each measure has one untimed warm-up; p50 and p95 are nearest-rank. Everything made (pod,
// containers, mounts, runc state, temporary directories) is removed even when the benchmark
// fails. Run: npm run build && node dist/bench/exec-benchmark.js
//
// The exec sessions are in exec-sessions.ts, the memory readings in memory-watch.ts.

const EXEC_ITERATIONS = 50;
const THROUGHPUT_ITERATIONS = 10;
const PAYLOAD_BYTES = 64 * MIB;

type Timed = () => Promise<number>;

interface Row {
  readonly measure: string;
  readonly caisson: readonly number[];
  readonly floor: readonly number[];
  /** Timings are reported as they are, or as the payload's MB/s. */
  readonly unit: 'ms' | 'MB/s';
}

async function main(): Promise<void> {
  catchInterrupts();
  const work = makeTempRoot('bench-exec');
  const cleanups: Cleanup[] = [];
  try {
    const payload = randomBytes(PAYLOAD_BYTES);
    const daemon = await startBenchDaemon(work, cleanups);
    const pod = podConfig(daemon.logs);
    const podId = await runPod(daemon.client, pod);
    const containerId = await startContainer(daemon.client, podId, pod, containerConfig('sleep', daemon.image, ['sleep', '3600']));
    const floor = await startFloorContainer(work, cleanups);
    const memory = new MemoryWatch();
    cleanups.push({ what: 'stop watching memory', run: () => memory.stop() });

    const { rows, stages } = await measure(daemon.client, containerId, floor, payload, memory);

    // Untimed, but it must happen: nothing is left in either runc root.
    await daemon.client.call('RemovePodSandbox', { pod_sandbox_id: podId }, { timeoutMs: RPC_TIMEOUT_MS });
    const { items = [] } = await daemon.client.call('ListPodSandbox', {});
    if (items.length > 0) throw new Error(`${items.length} pods are left after the caisson runs`);
    await expectNoRuncContainers(daemon.runcRoot);
    await daemon.stop();
    await runProgram('runc', ['--root', floor.root, 'delete', '-f', floor.id], { timeoutMs: RUNC_TIMEOUT_MS });
    await expectNoRuncContainers(floor.root);

    printRows(rows);
    printMemory(stages);
  } finally {
    await runCleanups('exec benchmark', cleanups, work);
  }
}

/** Runs the four measures, each caisson's way and the floor's way in turn. */
async function measure(client: CriClient, containerId: string, floor: FloorContainer, payload: Buffer, memory: MemoryWatch): Promise<{ rows: Row[]; stages: MemoryStage[] }> {
  const rows: Row[] = [];
  const stages = [memory.stage('before (daemon started, pod running, 64 MiB payload allocated)')];
  const run = async (name: string, floorName: string, unit: Row['unit'], caisson: () => Promise<unknown>, floorRun: () => Promise<unknown>): Promise<void> => {
    const samples = await samplePair(unit === 'ms' ? EXEC_ITERATIONS : THROUGHPUT_ITERATIONS, () => timed(caisson), () => timed(floorRun));
    rows.push({ measure: `${name} (floor: ${floorName})`, unit, ...samples });
    stages.push(memory.stage(`after ${name}`));
  };

  const execSyncTrue = async (): Promise<void> => {
    const { exit_code } = await client.call('ExecSync', { container_id: containerId, cmd: ['true'], timeout: 30 }, { timeoutMs: RPC_TIMEOUT_MS });
    if (exit_code !== 0) throw new Error(`ExecSync true exited with ${exit_code}`);
  };
  const execUrl = async (cmd: string, stdin: boolean): Promise<string> => {
    const { url } = await client.call('Exec', { container_id: containerId, cmd: [cmd], stdin, stdout: true, stderr: true }, { timeoutMs: RPC_TIMEOUT_MS });
    return String(url);
  };
  const wsTrue = async (): Promise<void> => wsExec(await execUrl('true', false), () => undefined);
  const wsCat = async (): Promise<void> => {
    const check = new PayloadCheck(payload);
    await wsExec(await execUrl('cat', true), (chunk) => check.push(chunk), (ws) => sendPayload(ws, payload));
    check.finish('WebSocket exec of cat');
  };
  const spdyCat = async (): Promise<void> => spdyCatExec(await execUrl('cat', true), payload);
  const runcTrue = (): Promise<unknown> => runProgram('runc', ['--root', floor.root, 'exec', floor.id, 'true'], { timeoutMs: RUNC_TIMEOUT_MS });
  const runcCatPayload = (): Promise<void> => runcCat(floor.root, floor.id, payload);

  await run('ExecSync `true`', 'runc exec true', 'ms', execSyncTrue, runcTrue);
  await run('Exec `true`, WebSocket v5', 'runc exec true', 'ms', wsTrue, runcTrue);
  await run('64 MiB through cat, WebSocket v5', 'runc exec cat', 'MB/s', wsCat, runcCatPayload);
  await run('64 MiB through cat, SPDY/3.1', 'runc exec cat', 'MB/s', spdyCat, runcCatPayload);
  return { rows, stages };
}

interface FloorContainer {
  readonly root: string;
  readonly id: string;
}

/** The floor's container: `sleep 3600` from `runc run -d` on a busybox bundle, in its own --root. */
async function startFloorContainer(work: string, cleanups: Cleanup[]): Promise<FloorContainer> {
  const bundle = path.join(work, 'bundle');
  const root = path.join(work, 'runc-root');
  const id = `caisson-bench-exec-${process.pid}`;
  await prepareRuncBundle(bundle, ['sleep', '3600'], ['sh', 'sleep', 'true', 'cat']);
  cleanups.push({ what: `delete leftover containers of ${root}`, run: () => deleteAllRunc(root) });
  await runcRunDetached(root, bundle, id, path.join(work, 'runc.log'));
  return { root, id };
}

/**
 * One untimed warm-up of each side, then `iterations` timed runs of each, alternating, so that
 * whatever else the (shared) machine does at the time slows both sides alike.
 */
async function samplePair(iterations: number, caisson: Timed, floor: Timed): Promise<{ caisson: number[]; floor: number[] }> {
  checkInterrupted();
  await caisson();
  await floor();
  const samples = { caisson: [] as number[], floor: [] as number[] };
  for (let i = 0; i < iterations; i++) {
    checkInterrupted();
    samples.caisson.push(await caisson());
    samples.floor.push(await floor());
  }
  return samples;
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

function printRows(rows: readonly Row[]): void {
  const mbPerS = (ms: number): number => PAYLOAD_BYTES / 1e6 / (ms / 1000);
  const show = (row: Row, ms: number): string => (row.unit === 'ms' ? `${ms.toFixed(1)} ms` : `${mbPerS(ms).toFixed(1)} MB/s`);
  const lines = rows.map((row) => {
    const [c50, c95, f50, f95] = [percentile(row.caisson, 50), percentile(row.caisson, 95), percentile(row.floor, 50), percentile(row.floor, 95)];
    const ratio = row.unit === 'ms' ? c50 / f50 : mbPerS(c50) / mbPerS(f50);
    return [row.measure, show(row, c50), show(row, c95), show(row, f50), show(row, f95), ratio.toFixed(2)];
  });
  process.stdout.write(
    `Exec, ${os.cpus().length} CPUs: ${EXEC_ITERATIONS} iterations of each \`true\`, ${THROUGHPUT_ITERATIONS} of each 64 MiB (after one untimed warm-up each).\n` +
      'MB/s is 10^6 bytes per second of the whole exec (RPC, connection, transfer, exit); its p95 is that of the times.\n\n',
  );
  printTable(['measure', 'caisson p50', 'caisson p95', 'floor p50', 'floor p95', 'caisson / floor (p50)'], lines);
}

function printMemory(stages: readonly MemoryStage[]): void {
  process.stdout.write(`\nMemory of the benchmark process (caissond and its clients run in it; the floor's runs alternate with caisson's):\n\n`);
  const first = stages[0]?.rss ?? 0;
  const withLive = stages.every((s) => s.live !== undefined);
  printTable(
    ['benchmark process', 'RSS', 'RSS change', 'RSS peak during', 'Buffers peak during', ...(withLive ? ['heap + Buffers after full GC'] : [])],
    stages.map((s, i) => [
      s.after,
      formatMib(s.rss),
      i === 0 ? '' : formatMibChange(s.rss - first),
      i === 0 ? '' : formatMib(s.rssPeak),
      i === 0 ? '' : formatMib(s.buffersPeak),
      ...(withLive ? [formatMib(s.live ?? 0)] : []),
    ]),
  );
  if (!withLive) process.stdout.write('(with node --expose-gc, a last column shows live memory after a full GC)\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`exec benchmark failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
