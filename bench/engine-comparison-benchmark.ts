import 'reflect-metadata';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { CriClient } from '../cli/cri-client';
import { runProgram } from '../core/host-programs/run-program';
import { busyboxBaseLayer, pushImage } from '../test/support/images/image-builder';
import { BUSYBOX_CONFIG } from '../test/support/images/standard-images';
import { startBusyboxRegistry } from '../test/support/busybox-registry';
import { makeTempRoot } from '../test/support/temp-root';
import { cpuMs, startCaisson, startContainerd, rssOf, type BenchEngine, type EngineSetup } from './bench-engines';
import { removeEveryPod, removePod, startPod } from './bench-pods';
import {
  catchInterrupts,
  checkInterrupted,
  deleteAllRunc,
  expectNoRuncContainers,
  formatMib,
  percentile,
  prepareRuncBundle,
  printTable,
  RPC_TIMEOUT_MS,
  runCleanups,
  runcRunDetached,
  RUNC_TIMEOUT_MS,
  type Cleanup,
} from './bench-support';

// Caisson beside containerd 1.6 (Debian's, on a private root) and the raw runc floor, in one run,
// on one busybox image from a docker-registry on 127.0.0.1 (iSulad's method): a pod plus one
// `sleep 3600` container, 20 started one after another on the host network and on a CNI bridge,
// then 50 started at once on the bridge, measured, and removed at once. Each engine is its own
// process; RSS is the sum of VmRSS of the engine and of its per-pod helpers. Everything either
// engine made is removed, even when the benchmark fails.
// Run: npm run build && node dist/bench/engine-comparison-benchmark.js

const SERIAL = 20;
const PARALLEL = 50;

interface EngineResults {
  readonly hostNetworkP50: number;
  readonly bridgeP50: number;
  readonly parallelStartS: number;
  readonly parallelRemoveS: number;
  readonly idleRss: number;
  readonly loadedRss: number;
  readonly cpuMsPerPod: number;
}

async function benchEngine(engine: BenchEngine, image: string, logs: string, cleanups: Cleanup[]): Promise<EngineResults> {
  const client = new CriClient(engine.socket);
  cleanups.push({ what: `close the ${engine.name} client`, run: () => client.close() });
  cleanups.push({ what: `remove what ${engine.name} still has`, run: () => removeEveryPod(client) });
  await client.call('PullImage', { image: { image } }, { timeoutMs: RPC_TIMEOUT_MS });
  // Warm-up (containerd pulls its sandbox image here), untimed.
  await removePod(client, await startPod(client, image, logs, 'POD'));
  await delay(2_000);
  const idleRss = rssOf([engine.pid]);

  const serial = async (network: 'POD' | 'NODE'): Promise<number> => {
    const ms: number[] = [];
    for (let i = 0; i < SERIAL; i++) {
      const started = performance.now();
      const podId = await startPod(client, image, logs, network);
      ms.push(performance.now() - started);
      await removePod(client, podId);
    }
    return percentile(ms, 50);
  };
  const hostNetworkP50 = await serial('NODE');
  const bridgeP50 = await serial('POD');

  const cpuBefore = cpuMs(engine.pid);
  let started = performance.now();
  const pods = await Promise.all(Array.from({ length: PARALLEL }, () => startPod(client, image, logs, 'POD')));
  const parallelStartS = (performance.now() - started) / 1000;
  const cpuMsPerPod = (cpuMs(engine.pid) - cpuBefore) / PARALLEL;
  await delay(1_000);
  const loadedRss = rssOf([engine.pid, ...engine.helperPids()]);

  started = performance.now();
  await Promise.all(pods.map((podId) => removePod(client, podId)));
  const parallelRemoveS = (performance.now() - started) / 1000;
  const { items = [] } = await client.call('ListPodSandbox', {});
  if (items.length > 0) throw new Error(`${engine.name} still lists ${items.length} pods after the run`);
  return { hostNetworkP50, bridgeP50, parallelStartS, parallelRemoveS, idleRss, loadedRss, cpuMsPerPod };
}

async function benchFloor(work: string, cleanups: Cleanup[]): Promise<number> {
  const bundle = path.join(work, 'bundle');
  const root = path.join(work, 'runc-root');
  await prepareRuncBundle(bundle, ['sleep', '3600'], ['sh', 'sleep']);
  cleanups.push({ what: `delete leftover containers of ${root}`, run: () => deleteAllRunc(root) });
  const ms: number[] = [];
  for (let i = -1; i < SERIAL; i++) {
    checkInterrupted();
    const id = `bench-floor-${process.pid}-${i + 1}`;
    const started = performance.now();
    await runcRunDetached(root, bundle, id, path.join(work, 'runc.log'));
    if (i >= 0) ms.push(performance.now() - started);
    await runProgram('runc', ['--root', root, 'delete', '-f', id], { timeoutMs: RUNC_TIMEOUT_MS });
  }
  await expectNoRuncContainers(root);
  return percentile(ms, 50);
}

async function main(): Promise<void> {
  catchInterrupts();
  if (!fs.existsSync('/usr/bin/containerd')) throw new Error('the comparison needs Debian\'s containerd (apt-get install containerd)');
  const work = makeTempRoot('bench-engines');
  const logs = path.join(work, 'pod-logs');
  fs.mkdirSync(logs);
  const cleanups: Cleanup[] = [];
  try {
    const { registry, image } = await startBusyboxRegistry();
    cleanups.push({ what: 'stop the registry', run: () => registry.stop() });
    await pushImage(registry, { repository: 'pause', tags: ['bench'], layers: [busyboxBaseLayer()], config: { ...BUSYBOX_CONFIG, Cmd: ['sleep', '2147483647'] } });
    const base = { work, registry: registry.host, pauseImage: `${registry.host}/pause:bench` };
    const setups: [string, EngineSetup, (setup: EngineSetup) => Promise<BenchEngine>][] = [
      ['containerd', { ...base, bridge: 'cbench1', subnet: '10.98.0.0/16' }, startContainerd],
      ['caisson', { ...base, bridge: 'cbench0', subnet: '10.97.0.0/16' }, startCaisson],
    ];
    const results = new Map<string, EngineResults>();
    for (const [name, setup, start] of setups) {
      cleanups.push({ what: `delete bridge ${setup.bridge}`, run: () => runProgram('ip', ['link', 'del', setup.bridge]).then(() => undefined, () => undefined) });
      const engine = await start(setup);
      cleanups.push({ what: `stop ${name}`, run: () => engine.stop() });
      results.set(name, await benchEngine(engine, image, logs, cleanups));
      await engine.stop();
      process.stderr.write(`${name} done\n`);
    }
    const floor = await benchFloor(work, cleanups);
    printResults(results.get('containerd'), results.get('caisson'), floor);
  } finally {
    await runCleanups('engine comparison benchmark', cleanups, work);
  }
}

function printResults(containerd: EngineResults | undefined, caisson: EngineResults | undefined, floorP50: number): void {
  if (!containerd || !caisson) throw new Error('an engine has no results');
  const ms = (value: number): string => `${value.toFixed(0)} ms`;
  const s = (value: number): string => `${value.toFixed(2)} s`;
  const ratio = (a: number, b: number): string => (b > 0 ? (a / b).toFixed(2) : '—');
  const rows: string[][] = [
    ['pod + container start p50, host network', ms(containerd.hostNetworkP50), ms(caisson.hostNetworkP50), `runc run -d ${ms(floorP50)}`, ratio(caisson.hostNetworkP50, containerd.hostNetworkP50), ratio(caisson.hostNetworkP50, floorP50)],
    ['pod + container start p50, CNI bridge', ms(containerd.bridgeP50), ms(caisson.bridgeP50), '—', ratio(caisson.bridgeP50, containerd.bridgeP50), '—'],
    [`${PARALLEL} pods started in parallel (CNI), wall`, s(containerd.parallelStartS), s(caisson.parallelStartS), '—', ratio(caisson.parallelStartS, containerd.parallelStartS), '—'],
    [`${PARALLEL} pods removed in parallel, wall`, s(containerd.parallelRemoveS), s(caisson.parallelRemoveS), '—', ratio(caisson.parallelRemoveS, containerd.parallelRemoveS), '—'],
    ['engine CPU time per pod (parallel start)', ms(containerd.cpuMsPerPod), ms(caisson.cpuMsPerPod), '—', ratio(caisson.cpuMsPerPod, containerd.cpuMsPerPod), '—'],
    ['engine RSS idle', formatMib(containerd.idleRss), formatMib(caisson.idleRss), '—', ratio(caisson.idleRss, containerd.idleRss), '—'],
    [`engine + helpers RSS, ${PARALLEL} pods running`, formatMib(containerd.loadedRss), formatMib(caisson.loadedRss), '—', ratio(caisson.loadedRss, containerd.loadedRss), '—'],
  ];
  process.stdout.write(`Caisson beside containerd 1.6 and the runc floor (${SERIAL} serial pods per network, ${PARALLEL} in parallel):\n\n`);
  printTable(['measure', 'containerd', 'caisson', 'floor', 'caisson / containerd', 'caisson / floor'], rows);
}

main().catch((error: unknown) => {
  process.stderr.write(`engine comparison benchmark failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
