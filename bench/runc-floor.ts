import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runProgram } from '../core/host-programs/run-program';
import { conmonSteps } from './conmon-floor';
import { networkedSteps, type FloorNetwork } from './floor-network';
import type { ContainerSteps } from './floor-steps';
import {
  allSettledOrThrow,
  checkInterrupted,
  deleteAllRunc,
  expectNoRuncContainers,
  machineCpuMs,
  percentile,
  prepareRuncBundle,
  runcRunDetached,
  RUNC_TIMEOUT_MS,
  type Cleanup,
} from './bench-support';

// The floors of the engine comparison: what runc (and the CNI plugins) alone take for the work a
// pod start asks of an engine, in one --root under the benchmark's work folder.
// - serial: `runc run -d` of a prepared bundle, one after another, with no network and with a
//   pod network each (a pinned network namespace and the engines' CNI chain, bench/floor-network.ts);
// - parallel: `count` of those at once, then `runc delete -f` of all of them at once, with no
//   network and with a pod network each (then also CNI DEL and the namespace unpinned);
// - the networked ones and the serial one again with the container made as Caisson's runc plugin
//   makes it, but driven from here with no daemon: conmon runs `runc create`, the exec FIFO
//   starts it, and SIGKILL plus the removal of runc's state end it (bench/conmon-floor.ts).
//   What these add to the runc floors is conmon's part.
// Each parallel step also reads the machine's CPU time (/proc/stat) before and after.

export interface ParallelFloor {
  readonly startS: number;
  readonly removeS: number;
  /** Machine CPU time (all processes and the kernel) per pod, over the start and over the removal. */
  readonly startCpuMsPerPod: number;
  readonly removeCpuMsPerPod: number;
  /** With the containers running: VmRSS of their per-container helpers (conmon), when they have any. */
  readonly helpersRss?: number;
}

export interface Floors {
  readonly serialP50: number;
  readonly parallel: ParallelFloor;
  readonly parallelNetwork: ParallelFloor;
  /** One after another with a network namespace and the CNI chain. */
  readonly serialNetworkP50: number;
  /** The same under conmon, as Caisson's runc plugin runs it. */
  readonly conmonSerialP50: number;
  readonly conmonSerialNetworkP50: number;
  readonly conmonParallelNetwork: ParallelFloor;
}

function runcSteps(root: string, work: string): ContainerSteps {
  return {
    start: (pod) => runcRunDetached(root, pod.podBundle, pod.id, path.join(work, `runc-${pod.id}.log`)),
    remove: (pod) => runcDelete(root, pod.id).then(() => undefined),
  };
}

/** Runs the three floors; everything they make is undone by the cleanups they register, too. */
export async function benchFloors(work: string, count: number, serial: number, network: FloorNetwork, cleanups: Cleanup[]): Promise<Floors> {
  const root = path.join(work, 'runc-root');
  const bundle = path.join(work, 'bundle');
  await prepareRuncBundle(bundle, ['sleep', '3600'], ['sh', 'sleep']);
  cleanups.push({ what: `delete bridge ${network.bridge}`, run: () => runProgram('ip', ['link', 'del', network.bridge]).then(() => undefined, () => undefined) });
  // Registered after the bridge, so it runs first: the containers go before their namespaces.
  cleanups.push({ what: `delete leftover containers of ${root}`, run: () => deleteAllRunc(root) });
  const runc = runcSteps(root, work);
  const conmon = conmonSteps(root, path.join(work, 'conmon-floor'));
  const networked = (inner: ContainerSteps, label: string): ContainerSteps => networkedSteps(inner, bundle, path.join(work, label), network);
  const serialP50 = await serialFloor(root, bundle, serial, 'floor', runc);
  const serialNetworkP50 = await serialFloor(root, bundle, serial, 'snfloor', networked(runc, 'snfloor'));
  const parallel = await parallelFloor(root, bundle, count, 'pfloor', runc);
  const parallelNetwork = await parallelFloor(root, bundle, count, 'nfloor', networked(runc, 'nfloor'));
  const conmonSerialP50 = await serialFloor(root, bundle, serial, 'cfloor', conmon);
  const conmonSerialNetworkP50 = await serialFloor(root, bundle, serial, 'csnfloor', networked(conmon, 'csnfloor'));
  const conmonParallelNetwork = await parallelFloor(root, bundle, count, 'cnfloor', networked(conmon, 'cnfloor'));
  return { serialP50, parallel, parallelNetwork, serialNetworkP50, conmonSerialP50, conmonSerialNetworkP50, conmonParallelNetwork };
}

/** p50 of `serial` container starts one after another (each removed before the next, untimed). */
async function serialFloor(root: string, bundle: string, serial: number, label: string, steps: ContainerSteps): Promise<number> {
  const ms: number[] = [];
  for (let i = -1; i < serial; i++) {
    checkInterrupted();
    const pod = { id: `bench-${label}-${process.pid}-${i + 1}`, podBundle: bundle };
    steps.prepare?.(pod);
    const started = performance.now();
    await steps.start(pod);
    if (i >= 0) ms.push(performance.now() - started);
    await steps.remove(pod);
  }
  await expectNoRuncContainers(root);
  return percentile(ms, 50);
}

function runcDelete(root: string, id: string): Promise<unknown> {
  return runProgram('runc', ['--root', root, 'delete', '-f', id], { timeoutMs: RUNC_TIMEOUT_MS });
}

/** Wall time (s) and machine CPU per pod (ms) of `count` calls of `step` at once. */
async function atOnce(count: number, step: (i: number) => Promise<unknown>): Promise<{ wallS: number; cpuMsPerPod: number }> {
  checkInterrupted();
  const cpuBefore = machineCpuMs();
  const started = performance.now();
  await allSettledOrThrow(Array.from({ length: count }, (_, i) => step(i)));
  const wallS = (performance.now() - started) / 1000;
  return { wallS, cpuMsPerPod: (machineCpuMs() - cpuBefore) / count };
}

/** `count` containers started at once, then removed at once: wall time, machine CPU per pod. */
async function parallelFloor(root: string, bundle: string, count: number, label: string, steps: ContainerSteps): Promise<ParallelFloor> {
  const pods = Array.from({ length: count }, (_, i) => ({ id: `bench-${label}-${process.pid}-${i}`, podBundle: bundle }));
  for (const pod of pods) steps.prepare?.(pod);
  const start = await atOnce(count, (i) => steps.start(pods[i]!));
  const helpersRss = steps.helperRss?.();
  const remove = await atOnce(count, (i) => steps.remove(pods[i]!));
  await expectNoRuncContainers(root);
  return { startS: start.wallS, removeS: remove.wallS, startCpuMsPerPod: start.cpuMsPerPod, removeCpuMsPerPod: remove.cpuMsPerPod, ...(helpersRss === undefined ? {} : { helpersRss }) };
}

