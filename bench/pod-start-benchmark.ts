import 'reflect-metadata';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CriClient } from '../cli/cri-client';
import { validateDaemonConfig } from '../config/load-config';
import { createDaemon } from '../core/daemon/create-daemon';
import { runProgram } from '../core/exec/run-program';
import { createLogger } from '../core/log/logger';
import { builtinPlugins } from '../plugins/builtins';
import { runtimeRoot } from '../plugins/runc/runc-runtime';
import { BUSYBOX_PATH, busyboxBaseLayer, pushImage } from '../test/support/images/image-builder';
import { BUSYBOX_CONFIG } from '../test/support/images/standard-images';
import { containerConfig, podConfig, runPod, startContainer } from '../test/support/pod-fixtures';
import { startTestRegistry, type TestRegistry } from '../test/support/registry/test-registry';
import { makeTempRoot, removeTempRoot } from '../test/support/temp-root';
import { testDaemonConfig, unmountBelow } from '../test/support/test-daemon';

// Pod start benchmark: RunPodSandbox + CreateContainer + StartContainer of a busybox
// `sleep 3600` container through an in-process caissond's CRI socket, beside the floor: the
// same process started by `runc run -d` on a bundle prepared once (no image, no pod, no conmon).
// Each side runs one untimed warm-up, then ITERATIONS timed starts; the pod (or runc container)
// is removed after each one, untimed. Prints p50/p95 and the daemon's RSS before and after.
// Everything made (pods, containers, mounts, runc state, temporary directories) is removed even
// when the benchmark fails. Run: npm run build && node dist/bench/pod-start-benchmark.js

const ITERATIONS = 50;
const RUNC_TIMEOUT_MS = 30_000;
const RPC_TIMEOUT_MS = 60_000;
const MIB = 1024 * 1024;

// Ctrl-C (or SIGTERM) ends the run at the next start, so the cleanup still runs; a second one
// kills the process as usual.
let interruptedBy: NodeJS.Signals | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => (interruptedBy = signal));

function checkInterrupted(): void {
  if (interruptedBy) throw new Error(`interrupted by ${interruptedBy}; cleaning up`);
}

interface Samples {
  readonly measure: string;
  readonly ms: readonly number[];
}

async function main(): Promise<void> {
  const work = makeTempRoot('bench-pods');
  const cleanups: { what: string; run: () => Promise<void> | void }[] = [];
  const failures: string[] = [];
  try {
    const registry = await startTestRegistry();
    cleanups.push({ what: 'stop the registry', run: () => registry.stop() });
    const caisson = await benchCaisson(work, registry, cleanups);
    const floor = await benchRunc(work, cleanups);
    printTimes(caisson.samples, floor);
    printRss(caisson.rssBefore, caisson.rssAfter);
  } finally {
    // Newest first; each step on its own, so one failure does not leave the rest behind.
    for (const { what, run } of cleanups.reverse()) {
      try {
        await run();
      } catch (error) {
        failures.push(`${what}: ${describe(error)}`);
      }
    }
    try {
      await unmountBelow(work);
      removeTempRoot(work);
    } catch (error) {
      failures.push(`remove ${work}: ${describe(error)}`);
    }
    if (failures.length > 0) {
      process.stderr.write(`pod start benchmark: cleanup failed:\n  ${failures.join('\n  ')}\n`);
      process.exitCode = 1;
    }
  }
}

async function benchCaisson(
  work: string,
  registry: TestRegistry,
  cleanups: { what: string; run: () => Promise<void> | void }[],
): Promise<{ samples: Samples; rssBefore: number; rssAfter: number }> {
  await pushImage(registry, { repository: 'busybox', tags: ['latest'], layers: [busyboxBaseLayer()], config: BUSYBOX_CONFIG });
  const image = `${registry.host}/busybox:latest`;

  const root = path.join(work, 'daemon');
  const logs = path.join(work, 'pod-logs');
  fs.mkdirSync(root);
  fs.mkdirSync(logs);
  const fileConfig = testDaemonConfig(root, { 'insecure-registries': [registry.host] });
  const config = validateDaemonConfig(fileConfig, 'bench');
  const daemon = createDaemon({ config, plugins: builtinPlugins, logger: createLogger('error', () => undefined) });
  let stopped = false;
  const stopDaemon = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await daemon.stop();
  };
  cleanups.push({ what: 'stop caissond', run: stopDaemon });
  // Registered after the daemon, so it runs before the daemon stops (cleanups run newest first).
  cleanups.push({ what: `delete leftover containers of caissond's runc root`, run: () => deleteAllRunc(runtimeRoot(config.state, 'runc')) });
  await daemon.start();

  const client = new CriClient(fileConfig.hosts?.[0] ?? '');
  cleanups.push({ what: 'close the CRI client', run: () => client.close() });
  cleanups.push({ what: 'remove every pod and container through caissond', run: () => (stopped ? undefined : removeEverything(client)) });
  await client.call('PullImage', { image: { image } }, { timeoutMs: RPC_TIMEOUT_MS });

  const startPod = async (): Promise<number> => {
    checkInterrupted();
    const pod = podConfig(logs);
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
  await expectNoRuncContainers(runtimeRoot(config.state, 'runc'));
  await stopDaemon();
  return { samples: { measure: 'caisson: RunPodSandbox+CreateContainer+StartContainer', ms }, rssBefore, rssAfter };
}

async function benchRunc(work: string, cleanups: { what: string; run: () => Promise<void> | void }[]): Promise<Samples> {
  const bundle = path.join(work, 'bundle');
  const root = path.join(work, 'runc-root');
  prepareRootfs(path.join(bundle, 'rootfs'));
  await runProgram('runc', ['spec', '--bundle', bundle]);
  const specPath = path.join(bundle, 'config.json');
  const spec = JSON.parse(fs.readFileSync(specPath, 'utf8')) as { process: { args: string[]; terminal: boolean } };
  spec.process.args = ['sleep', '3600'];
  spec.process.terminal = false;
  fs.writeFileSync(specPath, `${JSON.stringify(spec, null, 2)}\n`);
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

/** /bin/busybox with `sh` and `sleep` beside it, and the mount points runc's default spec uses. */
function prepareRootfs(rootfs: string): void {
  fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
  for (const dir of ['proc', 'sys', 'dev', 'tmp']) fs.mkdirSync(path.join(rootfs, dir));
  fs.copyFileSync(BUSYBOX_PATH, path.join(rootfs, 'bin', 'busybox'));
  fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
  for (const applet of ['sh', 'sleep']) fs.symlinkSync('busybox', path.join(rootfs, 'bin', applet));
}

/**
 * `runc run -d`: the container inherits runc's stdio (terminal false), so runc gets none of
 * ours — pipes the container holds open would never close. Its errors go to `--log` instead.
 */
function runcRunDetached(root: string, bundle: string, id: string, logFile: string): Promise<void> {
  const args = ['--root', root, '--log', logFile, 'run', '-d', '--bundle', bundle, id];
  return new Promise((resolve, reject) => {
    const child = spawn('runc', args, { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), RUNC_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`runc ${args.join(' ')} failed to start: ${error.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      const said = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join('\n') : '';
      reject(new Error(`runc ${args.join(' ')} ${signal ? `was killed by ${signal}` : `exited with status ${code}`}${said ? `: ${said}` : ''}`));
    });
  });
}

async function listRunc(root: string): Promise<string[]> {
  if (!fs.existsSync(root)) return [];
  const { stdout } = await runProgram('runc', ['--root', root, 'list', '--quiet'], { timeoutMs: RUNC_TIMEOUT_MS });
  return stdout.split('\n').filter(Boolean);
}

/** Force-deletes every container in a runc root (none, when the benchmark went well). */
async function deleteAllRunc(root: string): Promise<void> {
  for (const id of await listRunc(root)) await runProgram('runc', ['--root', root, 'delete', '-f', id], { timeoutMs: RUNC_TIMEOUT_MS });
}

/** Each removal was untimed but must have happened: the runc root is empty after the runs. */
async function expectNoRuncContainers(root: string): Promise<void> {
  const left = await listRunc(root);
  if (left.length > 0) throw new Error(`runc --root ${root} still lists ${left.join(', ')}`);
}

/** Removes whatever pods and containers a failed run left, through the daemon (conmon ends too). */
async function removeEverything(client: CriClient): Promise<void> {
  const { items = [] } = await client.call('ListPodSandbox', {}, { timeoutMs: 5_000 });
  for (const pod of items) await client.call('RemovePodSandbox', { pod_sandbox_id: pod.id }, { timeoutMs: RPC_TIMEOUT_MS });
  const { containers = [] } = await client.call('ListContainers', {}, { timeoutMs: 5_000 });
  for (const container of containers) await client.call('RemoveContainer', { container_id: container.id }, { timeoutMs: RPC_TIMEOUT_MS });
}

/** Nearest-rank percentile. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

function printTimes(caisson: Samples, floor: Samples): void {
  const floorP50 = percentile(floor.ms, 50);
  const rows = [caisson, floor].map((s) => [s.measure, `${percentile(s.ms, 50).toFixed(1)} ms`, `${percentile(s.ms, 95).toFixed(1)} ms`, (percentile(s.ms, 50) / floorP50).toFixed(2)]);
  process.stdout.write(`Pod start, ${ITERATIONS} iterations each (after one untimed warm-up):\n\n`);
  printTable(['measure', 'p50', 'p95', 'caisson p50 / floor p50'], rows);
}

function printRss(before: number, after: number): void {
  const mib = (bytes: number): string => `${(bytes / MIB).toFixed(1)} MiB`;
  const change = after - before;
  process.stdout.write(`\nRSS of the benchmark process (caissond runs in it):\n\n`);
  printTable(
    ['daemon process RSS', 'MiB'],
    [
      ['before (daemon started, image pulled, warm-up pod removed)', mib(before)],
      [`after ${ITERATIONS} more pods started and removed`, mib(after)],
      ['change', `${change >= 0 ? '+' : '-'}${mib(Math.abs(change))}`],
    ],
  );
}

function printTable(header: readonly string[], lines: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const format = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  process.stdout.write(`${format(header)}\n| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |\n${lines.map(format).join('\n')}\n`);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

main().catch((error: unknown) => {
  process.stderr.write(`pod start benchmark failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
