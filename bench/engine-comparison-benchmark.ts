import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
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
  formatMib,
  machineCpuMs,
  percentile,
  printTable,
  RPC_TIMEOUT_MS,
  runCleanups,
  type Cleanup,
} from './bench-support';
import { measureStackFloor } from './grpc-stack-floor';
import { benchFloors, type Floors } from './runc-floor';

// Caisson beside containerd 1.6 (Debian's, on a private root) and the raw runc floor, in one run,
// on one busybox image from a docker-registry on 127.0.0.1 (iSulad's method): a pod plus one
// `sleep 3600` container, 20 started one after another on the host network and on a CNI bridge,
// then 50 started at once on the bridge, measured, and removed at once. Each engine is its own
// process; RSS is the sum of VmRSS of the engine and of its per-pod helpers. The floors
// (bench/runc-floor.ts) are runc alone, serial and 50 at once, and 50 at once with a network
// namespace and the same CNI chain each; the machine's CPU time over each parallel step shows how
// much of it the engine spends and how much runc, conmon, CNI and the kernel. conmon's share is
// measured by floors that run the container under conmon as Caisson's runc plugin does, with no
// daemon (bench/conmon-floor.ts); the idle engine's by the stack Caisson is built on alone, node
// and grpc-js serving the CRI protos (bench/grpc-stack-floor.ts). Everything either
// engine or the floors made is removed, even when the benchmark fails.
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
  /** CPU time of the whole machine per pod (/proc/stat), over the parallel start and removal. */
  readonly startMachineCpuMsPerPod: number;
  readonly removeMachineCpuMsPerPod: number;
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
  let machineBefore = machineCpuMs();
  let started = performance.now();
  const pods = await Promise.all(Array.from({ length: PARALLEL }, () => startPod(client, image, logs, 'POD')));
  const parallelStartS = (performance.now() - started) / 1000;
  const startMachineCpuMsPerPod = (machineCpuMs() - machineBefore) / PARALLEL;
  const cpuMsPerPod = (cpuMs(engine.pid) - cpuBefore) / PARALLEL;
  await delay(1_000);
  const loadedRss = rssOf([engine.pid, ...engine.helperPids()]);

  machineBefore = machineCpuMs();
  started = performance.now();
  await Promise.all(pods.map((podId) => removePod(client, podId)));
  const parallelRemoveS = (performance.now() - started) / 1000;
  const removeMachineCpuMsPerPod = (machineCpuMs() - machineBefore) / PARALLEL;
  const { items = [] } = await client.call('ListPodSandbox', {});
  if (items.length > 0) throw new Error(`${engine.name} still lists ${items.length} pods after the run`);
  return { hostNetworkP50, bridgeP50, parallelStartS, parallelRemoveS, idleRss, loadedRss, cpuMsPerPod, startMachineCpuMsPerPod, removeMachineCpuMsPerPod };
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
    const stackRss = await measureStackFloor(work);
    const floors = await benchFloors(work, PARALLEL, SERIAL, { bridge: 'cbench2', subnet: '10.99.0.0/16' }, cleanups);
    printResults(results.get('containerd'), results.get('caisson'), floors, stackRss);
  } finally {
    await runCleanups('engine comparison benchmark', cleanups, work);
  }
}

function printResults(containerd: EngineResults | undefined, caisson: EngineResults | undefined, floors: Floors, stackRss: number): void {
  if (!containerd || !caisson) throw new Error('an engine has no results');
  const ms = (value: number): string => `${value.toFixed(0)} ms`;
  const s = (value: number): string => `${value.toFixed(2)} s`;
  const ratio = (a: number, b: number): string => (b > 0 ? (a / b).toFixed(2) : '—');
  const { parallel: runcOnly, parallelNetwork: net, conmonParallelNetwork: conmon } = floors;
  // With this many cores busy the whole time, the machine needs at least this long for the CPU time measured.
  const cores = os.cpus().length;
  const cpuWall = (msPerPod: number): number => (msPerPod * PARALLEL) / 1000 / cores;
  const conmonsRss = conmon.helpersRss ?? 0;
  const loadedFloor = stackRss + conmonsRss;
  /** A row of the engines and a floor: the measure, both engines' values, the floor's, and the ratios. */
  const row = (measure: string, value: (r: EngineResults) => number, format: (v: number) => string, floorName: string, floor: number | undefined): string[] => [
    measure,
    format(value(containerd)),
    format(value(caisson)),
    floor === undefined ? '—' : `${floorName} ${format(floor)}`.trim(),
    ratio(value(caisson), value(containerd)),
    floor === undefined ? '—' : ratio(value(caisson), floor),
  ];
  const floorOnly = (measure: string, floor: string): string[] => [measure, '—', '—', floor, '—', '—'];
  const rows: string[][] = [
    row('pod + container start p50, host network', (r) => r.hostNetworkP50, ms, 'runc run -d', floors.serialP50),
    row('  the same against runc under conmon, no daemon', (r) => r.hostNetworkP50, ms, 'conmon + runc create, start', floors.conmonSerialP50),
    row('pod + container start p50, CNI bridge', (r) => r.bridgeP50, ms, 'netns+CNI+runc run -d', floors.serialNetworkP50),
    row('  the same against runc under conmon, no daemon', (r) => r.bridgeP50, ms, 'netns+CNI+conmon+runc', floors.conmonSerialNetworkP50),
    row(`${PARALLEL} pods started in parallel (CNI), wall`, (r) => r.parallelStartS, s, 'netns+CNI+runc', net.startS),
    row('  the same against runc under conmon, no daemon', (r) => r.parallelStartS, s, 'netns+CNI+conmon+runc', conmon.startS),
    row(`${PARALLEL} pods removed in parallel, wall`, (r) => r.parallelRemoveS, s, 'runc+CNI DEL', net.removeS),
    row('  the same against runc under conmon, no daemon', (r) => r.parallelRemoveS, s, 'conmon+runc+CNI DEL', conmon.removeS),
    floorOnly(`${PARALLEL} runc run -d in parallel, no network, wall`, s(runcOnly.startS)),
    floorOnly(`${PARALLEL} runc delete -f in parallel, no network, wall`, s(runcOnly.removeS)),
    row('engine CPU time per pod (parallel start)', (r) => r.cpuMsPerPod, ms, '', undefined),
    row('machine CPU time per pod (parallel start)', (r) => r.startMachineCpuMsPerPod, ms, '', net.startCpuMsPerPod),
    row('  the same against the floor under conmon', (r) => r.startMachineCpuMsPerPod, ms, '', conmon.startCpuMsPerPod),
    floorOnly('  floor with no network', ms(runcOnly.startCpuMsPerPod)),
    row('machine CPU time per pod (parallel remove)', (r) => r.removeMachineCpuMsPerPod, ms, '', net.removeCpuMsPerPod),
    row('  the same against the floor under conmon', (r) => r.removeMachineCpuMsPerPod, ms, '', conmon.removeCpuMsPerPod),
    row(`machine CPU / ${cores} cores, parallel start`, (r) => cpuWall(r.startMachineCpuMsPerPod), s, '', cpuWall(net.startCpuMsPerPod)),
    row(`machine CPU / ${cores} cores, parallel remove`, (r) => cpuWall(r.removeMachineCpuMsPerPod), s, '', cpuWall(net.removeCpuMsPerPod)),
    row('engine RSS idle', (r) => r.idleRss, formatMib, 'node + grpc-js + CRI protos', stackRss),
    row(`engine + helpers RSS, ${PARALLEL} pods running`, (r) => r.loadedRss, formatMib, `that + ${PARALLEL} conmons (${formatMib(conmonsRss)})`, loadedFloor),
  ];
  process.stdout.write(`Caisson beside containerd 1.6 and the floors (${SERIAL} serial pods per network, ${PARALLEL} in parallel):\n\n`);
  printTable(['measure', 'containerd', 'caisson', 'floor', 'caisson / containerd', 'caisson / floor'], rows);
}

main().catch((error: unknown) => {
  process.stderr.write(`engine comparison benchmark failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
