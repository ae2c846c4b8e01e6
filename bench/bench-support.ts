import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CriClient } from '../cli/cri-client';
import type { DaemonConfigFile } from '../config/daemon-config-schema';
import { validateDaemonConfig } from '../config/load-config';
import { createDaemon } from '../core/daemon/create-daemon';
import { runProgram } from '../core/host-programs/run-program';
import { createLogger } from '../core/log/logger';
import { builtinPlugins } from '../plugins/builtins';
import { runtimeRoot } from '../plugins/runc/runc-runtime';
import { startBusyboxRegistry } from '../test/support/busybox-registry';
import { BUSYBOX_PATH } from '../test/support/images/image-builder';
import { removeTempRoot } from '../test/support/temp-root';
import { testDaemonConfig, unmountBelow } from '../test/support/test-daemon';

// What the container benchmarks share: an in-process caissond with the busybox image pulled,
// a runc bundle and `runc run -d` for the floor, the cleanup list that undoes both even when a
// run fails or is interrupted, and the table printing.

export const RUNC_TIMEOUT_MS = 30_000;
export const RPC_TIMEOUT_MS = 60_000;
export const MIB = 1024 * 1024;
/** USER_HZ: the unit of /proc/stat and /proc/PID/stat times. */
export const CLOCK_TICKS_PER_SECOND = 100;

/** One thing to undo; the list runs newest first, so later steps may rely on earlier ones still being there. */
export interface Cleanup {
  readonly what: string;
  run(): Promise<void> | void;
}

let interruptedBy: NodeJS.Signals | undefined;

/**
 * Ctrl-C (or SIGTERM) ends the run at the next checkInterrupted(), so the cleanup still runs; a
 * second one kills the process as usual. Called by main(), not on import.
 */
export function catchInterrupts(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => (interruptedBy = signal));
}

export function checkInterrupted(): void {
  if (interruptedBy) throw new Error(`interrupted by ${interruptedBy}; cleaning up`);
}

/**
 * Runs `cleanups` newest first, each on its own (one failure does not leave the rest behind),
 * then unmounts and removes `work`. Reports what failed on stderr and sets the exit code.
 */
export async function runCleanups(benchmark: string, cleanups: Cleanup[], work: string): Promise<void> {
  const failures: string[] = [];
  for (const { what, run } of [...cleanups].reverse()) {
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
    process.stderr.write(`${benchmark}: cleanup failed:\n  ${failures.join('\n  ')}\n`);
    process.exitCode = 1;
  }
}

export interface BenchDaemon {
  readonly client: CriClient;
  /** The busybox image on the local registry, already pulled. */
  readonly image: string;
  /** A folder for pods' log_directory. */
  readonly logs: string;
  /** caissond's runc --root (empty once every pod is removed). */
  readonly runcRoot: string;
  /** Stops caissond; safe to call twice (the cleanup calls it again). */
  stop(): Promise<void>;
}

/**
 * A docker-registry on 127.0.0.1 serving busybox, and caissond in this process on a root below
 * `work` that trusts it, with the image pulled. Registers its cleanups: leftover pods removed
 * through the daemon, leftover runc containers deleted, the daemon stopped, the registry stopped.
 */
export async function startBenchDaemon(work: string, cleanups: Cleanup[], config: DaemonConfigFile = {}): Promise<BenchDaemon> {
  const { registry, image } = await startBusyboxRegistry();
  cleanups.push({ what: 'stop the registry', run: () => registry.stop() });

  const root = path.join(work, 'daemon');
  const logs = path.join(work, 'pod-logs');
  fs.mkdirSync(root);
  fs.mkdirSync(logs);
  const fileConfig = testDaemonConfig(root, { 'insecure-registries': [registry.host], ...config });
  const validated = validateDaemonConfig(fileConfig, 'bench');
  const daemon = createDaemon({ config: validated, plugins: builtinPlugins, logger: createLogger('error', () => undefined) });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await daemon.stop();
  };
  const runcRoot = runtimeRoot(validated.state, 'runc');
  cleanups.push({ what: 'stop caissond', run: stop });
  // Registered after the daemon, so it runs before the daemon stops (cleanups run newest first).
  cleanups.push({ what: `delete leftover containers of caissond's runc root`, run: () => deleteAllRunc(runcRoot) });
  await daemon.start();

  const client = new CriClient(fileConfig.hosts?.[0] ?? '');
  cleanups.push({ what: 'close the CRI client', run: () => client.close() });
  cleanups.push({ what: 'remove every pod and container through caissond', run: () => (stopped ? undefined : removeEverything(client)) });
  await client.call('PullImage', { image: { image } }, { timeoutMs: RPC_TIMEOUT_MS });
  return { client, image, logs, runcRoot, stop };
}

/** Removes whatever pods and containers a failed run left, through the daemon (conmon ends too). */
async function removeEverything(client: CriClient): Promise<void> {
  const { items = [] } = await client.call('ListPodSandbox', {}, { timeoutMs: 5_000 });
  for (const pod of items) await client.call('RemovePodSandbox', { pod_sandbox_id: pod.id }, { timeoutMs: RPC_TIMEOUT_MS });
  const { containers = [] } = await client.call('ListContainers', {}, { timeoutMs: 5_000 });
  for (const container of containers) await client.call('RemoveContainer', { container_id: container.id }, { timeoutMs: RPC_TIMEOUT_MS });
}

/**
 * The floor's bundle: a rootfs of /bin/busybox with `applets` linked beside it (and the mount
 * points runc's default spec uses), and `runc spec` with `args` and no terminal.
 */
export async function prepareRuncBundle(bundle: string, args: readonly string[], applets: readonly string[]): Promise<void> {
  const rootfs = path.join(bundle, 'rootfs');
  fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
  for (const dir of ['proc', 'sys', 'dev', 'tmp']) fs.mkdirSync(path.join(rootfs, dir));
  fs.copyFileSync(BUSYBOX_PATH, path.join(rootfs, 'bin', 'busybox'));
  fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
  for (const applet of applets) fs.symlinkSync('busybox', path.join(rootfs, 'bin', applet));

  await runProgram('runc', ['spec', '--bundle', bundle]);
  const specPath = path.join(bundle, 'config.json');
  const spec = JSON.parse(fs.readFileSync(specPath, 'utf8')) as { process: { args: string[]; terminal: boolean } };
  spec.process.args = [...args];
  spec.process.terminal = false;
  fs.writeFileSync(specPath, `${JSON.stringify(spec, null, 2)}\n`);
}

/**
 * `runc run -d`: the container inherits runc's stdio (terminal false), so runc gets none of
 * ours — pipes the container holds open would never close. Its errors go to `--log` instead.
 */
export function runcRunDetached(root: string, bundle: string, id: string, logFile: string): Promise<void> {
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
export async function deleteAllRunc(root: string): Promise<void> {
  for (const id of await listRunc(root)) await runProgram('runc', ['--root', root, 'delete', '-f', id], { timeoutMs: RUNC_TIMEOUT_MS });
}

/** Each removal was untimed but must have happened: the runc root is empty after the runs. */
export async function expectNoRuncContainers(root: string): Promise<void> {
  const left = await listRunc(root);
  if (left.length > 0) throw new Error(`runc --root ${root} still lists ${left.join(', ')}`);
}

/**
 * CPU time the whole machine has spent, in ms, from the first line of /proc/stat: user + nice +
 * system + irq + softirq over all CPUs (idle, iowait and steal left out). Whatever else runs on
 * the machine meanwhile counts too.
 */
export function machineCpuMs(): number {
  const fields = (fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = fields;
  return ((user + nice + system + irq + softirq) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/**
 * Promise.all that waits for every promise to settle before failing with the first error, so
 * no program of a failed batch is still running when the cleanup starts.
 */
export async function allSettledOrThrow<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<T>).value);
}

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

export function formatMib(bytes: number): string {
  return `${(bytes / MIB).toFixed(1)} MiB`;
}

/** `+1.5 MiB` or `-0.3 MiB`. */
export function formatMibChange(bytes: number): string {
  return `${bytes >= 0 ? '+' : '-'}${formatMib(Math.abs(bytes))}`;
}

/** A Markdown table, columns padded to their widest cell (pasted as-is into bench/README.md). */
export function printTable(header: readonly string[], lines: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const format = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  process.stdout.write(`${format(header)}\n| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |\n${lines.map(format).join('\n')}\n`);
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
