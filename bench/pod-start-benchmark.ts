import 'reflect-metadata';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
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

// Pod start benchmark: RunPodSandbox + CreateContainer + StartContainer of a busybox
// `sleep 3600` container through an in-process caissond's CRI socket, beside the floor: the
// same process started by `runc run -d` on a bundle prepared once (no image, no pod, no conmon).
// Each side runs one untimed warm-up, then ITERATIONS timed starts; the pod (or runc container)
// is removed after each one, untimed. Prints p50/p95 and the daemon's RSS before and after.
// Everything made (pods, containers, mounts, runc state, temporary directories) is removed even
// when the benchmark fails. Run: npm run build && node dist/bench/pod-start-benchmark.js

const ITERATIONS = 50;

interface Samples {
  readonly measure: string;
  readonly ms: readonly number[];
}

async function main(): Promise<void> {
  catchInterrupts();
  const work = makeTempRoot('bench-pods');
  const cleanups: Cleanup[] = [];
  try {
    const caisson = await benchCaisson(work, cleanups);
    const floor = await benchRunc(work, cleanups);
    printTimes(caisson.samples, floor);
    printRss(caisson.rssBefore, caisson.rssAfter);
  } finally {
    await runCleanups('pod start benchmark', cleanups, work);
  }
}

async function benchCaisson(work: string, cleanups: Cleanup[]): Promise<{ samples: Samples; rssBefore: number; rssAfter: number }> {
  const daemon = await startBenchDaemon(work, cleanups);
  const { client, image } = daemon;

  const startPod = async (): Promise<number> => {
    checkInterrupted();
    const pod = podConfig(daemon.logs);
    const started = performance.now();
    let podId: string | undefined;
    try {
      podId = await runPod(client, pod);
      await startContainer(client, podId, pod, containerConfig('sleep', image, ['sleep', '3600']));
      return performance.now() - started;
    } finally {
      if (podId !== undefined) await client.call('RemovePodSandbox', { pod_sandbox_id: podId }, { timeoutMs: RPC_TIMEOUT_MS });
    }
  };

  await startPod();
  const rssBefore = process.memoryUsage().rss;
  const ms: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) ms.push(await startPod());
  const rssAfter = process.memoryUsage().rss;

  const { items = [] } = await client.call('ListPodSandbox', {});
  if (items.length > 0) throw new Error(`${items.length} pods are left after the caisson runs`);
  await expectNoRuncContainers(daemon.runcRoot);
  await daemon.stop();
  return { samples: { measure: 'caisson: RunPodSandbox+CreateContainer+StartContainer', ms }, rssBefore, rssAfter };
}

async function benchRunc(work: string, cleanups: Cleanup[]): Promise<Samples> {
  const bundle = path.join(work, 'bundle');
  const root = path.join(work, 'runc-root');
  await prepareRuncBundle(bundle, ['sleep', '3600'], ['sh', 'sleep']);
  cleanups.push({ what: `delete leftover containers of ${root}`, run: () => deleteAllRunc(root) });

  let next = 0;
  const runOnce = async (): Promise<number> => {
    checkInterrupted();
    const id = `caisson-bench-${process.pid}-${next++}`;
    const started = performance.now();
    try {
      await runcRunDetached(root, bundle, id, path.join(work, 'runc.log'));
      return performance.now() - started;
    } finally {
      await runProgram('runc', ['--root', root, 'delete', '-f', id], { timeoutMs: RUNC_TIMEOUT_MS }).catch(() => undefined);
    }
  };

  await runOnce();
  const ms: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) ms.push(await runOnce());
  await expectNoRuncContainers(root);
  return { measure: 'floor: runc run -d', ms };
}

function printTimes(caisson: Samples, floor: Samples): void {
  const floorP50 = percentile(floor.ms, 50);
  const rows = [caisson, floor].map((s) => [s.measure, `${percentile(s.ms, 50).toFixed(1)} ms`, `${percentile(s.ms, 95).toFixed(1)} ms`, (percentile(s.ms, 50) / floorP50).toFixed(2)]);
  process.stdout.write(`Pod start, ${ITERATIONS} iterations each (after one untimed warm-up):\n\n`);
  printTable(['measure', 'p50', 'p95', 'caisson p50 / floor p50'], rows);
}

function printRss(before: number, after: number): void {
  process.stdout.write(`\nRSS of the benchmark process (caissond runs in it):\n\n`);
  printTable(
    ['daemon process RSS', 'MiB'],
    [
      ['before (daemon started, image pulled, warm-up pod removed)', formatMib(before)],
      [`after ${ITERATIONS} more pods started and removed`, formatMib(after)],
      ['change', formatMibChange(after - before)],
    ],
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`pod start benchmark failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
