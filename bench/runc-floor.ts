import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runProgram } from '../core/host-programs/run-program';
import { conmonSteps } from './conmon-floor';
import type { ContainerSteps, FloorPod } from './floor-steps';
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
// - serial: `runc run -d` of a prepared bundle, one after another;
// - parallel: `count` of those at once, then `runc delete -f` of all of them at once;
// - parallel with network: for each pod at once, a network namespace pinned on a file (`unshare
//   --net=FILE ip link set lo up`, as caissond does), the engines' CNI chain (bridge + host-local,
//   then portmap) run straight from /usr/lib/cni on a bridge and subnet of the floor's own, and
//   `runc run -d` of a bundle whose spec joins that namespace; then, at once, `runc delete -f`,
//   CNI DEL (portmap, then bridge) and the namespace unpinned;
// - the same two, serial and parallel with network, with the container made as Caisson's runc
//   plugin makes it, but driven from here with no daemon: conmon runs `runc create`, the exec
//   FIFO starts it, and SIGKILL plus the removal of runc's state end it (bench/conmon-floor.ts).
//   What this adds to the runc floors is conmon's part.
// Each parallel step also reads the machine's CPU time (/proc/stat) before and after.

const CNI_BIN = '/usr/lib/cni';
const CNI_VERSION = '1.0.0';

export interface FloorNetwork {
  readonly bridge: string;
  readonly subnet: string;
}

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
  /** The same under conmon, as Caisson's runc plugin runs it. */
  readonly conmonSerialP50: number;
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
  const serialP50 = await serialFloor(root, bundle, serial, 'floor', runc);
  const parallel = await parallelFloor(root, bundle, work, count);
  const parallelNetwork = await parallelNetworkFloor(root, bundle, work, count, network, 'nfloor', runc);
  const conmonSerialP50 = await serialFloor(root, bundle, serial, 'cfloor', conmon);
  const conmonParallelNetwork = await parallelNetworkFloor(root, bundle, work, count, network, 'cnfloor', conmon);
  return { serialP50, parallel, parallelNetwork, conmonSerialP50, conmonParallelNetwork };
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

async function parallelFloor(root: string, bundle: string, work: string, count: number): Promise<ParallelFloor> {
  const id = (i: number): string => `bench-pfloor-${process.pid}-${i}`;
  const start = await atOnce(count, (i) => runcRunDetached(root, bundle, id(i), path.join(work, `runc-${id(i)}.log`)));
  const remove = await atOnce(count, (i) => runcDelete(root, id(i)));
  await expectNoRuncContainers(root);
  return { startS: start.wallS, removeS: remove.wallS, startCpuMsPerPod: start.cpuMsPerPod, removeCpuMsPerPod: remove.cpuMsPerPod };
}

/** The chain bench-engines.ts writes for the engines, on the floor's own bridge and subnet. */
function cniPlugins(network: FloorNetwork, ipamDir: string): Record<string, unknown>[] {
  const gateway = network.subnet.replace(/0\/\d+$/, '1');
  return [
    { type: 'bridge', bridge: network.bridge, isGateway: true, ipMasq: false, hairpinMode: true, ipam: { type: 'host-local', ranges: [[{ subnet: network.subnet, gateway }]], dataDir: ipamDir } },
    { type: 'portmap', capabilities: { portMappings: true } },
  ];
}

/** One CNI plugin call, as a runtime makes it: CNI_* in the environment, the config on stdin. */
async function cni(command: 'ADD' | 'DEL', plugin: Record<string, unknown>, id: string, netns: string, network: FloorNetwork, prevResult: unknown): Promise<unknown> {
  const input = JSON.stringify({ ...plugin, name: `bench-${network.bridge}`, cniVersion: CNI_VERSION, ...(prevResult === undefined ? {} : { prevResult }) });
  const env = { ...process.env, CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_PATH: CNI_BIN };
  const { stdout } = await runProgram(path.join(CNI_BIN, String(plugin.type)), [], { env, input, timeoutMs: RUNC_TIMEOUT_MS });
  return command === 'ADD' ? (JSON.parse(stdout) as unknown) : undefined;
}

async function parallelNetworkFloor(root: string, bundle: string, work: string, count: number, network: FloorNetwork, label: string, steps: ContainerSteps): Promise<ParallelFloor> {
  const plugins = cniPlugins(network, path.join(work, `${label}-ipam`));
  const spec = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')) as { root: { path: string }; linux: { namespaces: { type: string; path?: string }[] } };
  const netnsDir = path.join(work, `${label}-netns`);
  fs.mkdirSync(netnsDir);
  const pods = Array.from({ length: count }, (_, i): FloorPod => {
    const id = `bench-${label}-${process.pid}-${i}`;
    const podBundle = path.join(work, `${label}-bundles`, id);
    const netns = path.join(netnsDir, id);
    // Its own config.json joining its namespace, on the shared read-only rootfs; written untimed.
    fs.mkdirSync(podBundle, { recursive: true });
    const namespaces = spec.linux.namespaces.map((ns) => (ns.type === 'network' ? { type: 'network', path: netns } : ns));
    fs.writeFileSync(path.join(podBundle, 'config.json'), JSON.stringify({ ...spec, root: { ...spec.root, path: path.join(bundle, 'rootfs') }, linux: { ...spec.linux, namespaces } }));
    const pod: FloorPod = { id, podBundle, netns, results: [] };
    steps.prepare?.(pod);
    return pod;
  });

  const start = await atOnce(count, async (i) => {
    const pod = pods[i]!;
    fs.writeFileSync(pod.netns, '', { mode: 0o600 });
    await runProgram('unshare', [`--net=${pod.netns}`, '--', 'ip', 'link', 'set', 'lo', 'up']);
    let prev: unknown;
    for (const plugin of plugins) {
      prev = await cni('ADD', plugin, pod.id, pod.netns, network, prev);
      pod.results.push(prev);
    }
    await steps.start(pod);
  });
  const helpersRss = steps.helperRss?.();
  const remove = await atOnce(count, async (i) => {
    const pod = pods[i]!;
    await steps.remove(pod);
    // As libcni does, every DEL gets the chain's final ADD result as prevResult.
    const final = pod.results[pod.results.length - 1];
    for (const plugin of [...plugins].reverse()) await cni('DEL', plugin, pod.id, pod.netns, network, final);
    await runProgram('umount', [pod.netns]);
    fs.rmSync(pod.netns);
  });
  await expectNoRuncContainers(root);
  return { startS: start.wallS, removeS: remove.wallS, startCpuMsPerPod: start.cpuMsPerPod, removeCpuMsPerPod: remove.cpuMsPerPod, ...(helpersRss === undefined ? {} : { helpersRss }) };
}
