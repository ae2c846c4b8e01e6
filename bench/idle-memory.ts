import 'reflect-metadata';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CriClient } from '../cli/cri-client';
import { runProgram } from '../core/host-programs/run-program';
import { startBusyboxRegistry } from '../test/support/busybox-registry';
import { makeTempRoot } from '../test/support/temp-root';
import { cpuMs, startCaisson, type CaissonLaunch } from './bench-engines';
import { removeEveryPod, removePod, startPod } from './bench-pods';
import { catchInterrupts, formatMib, printTable, RPC_TIMEOUT_MS, runCleanups, type Cleanup } from './bench-support';
import type { V8Report } from './v8-report';

// Where an idle caissond's memory goes. caissond runs as its own process (bin/caissond, as the
// engine comparison starts it, on a private root, socket and CNI bridge), and is measured 2 s
// after it answers Version and Status, then again 2 s after one pod start and removal (the
// comparison's "RSS idle" follows such a warm-up pod). Reported: VmRSS and its split from
// /proc/<pid>/status, the smaps_rollup figures, RSS per kind of mapping, with --v8 what V8
// reports (a preload answers SIGUSR2), and the daemon's CPU time per pod, to see that a memory
// setting does not cost request time. The median of --runs daemons, each on a fresh root.
// Run: npm run build && node dist/bench/idle-memory.js [--runs N] [--pods N] [--v8] [--gc]
//        [--settle S] [--modules] [--node '<node flags>'] [--env NAME=VALUE]...
// --settle reads once more S seconds later (V8's memory reducer shrinks an idle heap about 8 s
// after its last full GC, so the 2 s reading is not yet the daemon's settled size); --pods starts and removes N pods one after another instead of one (growth per pod); --gc has
// the preload run a full GC before it reports, so V8's figures are live memory (and the second
// reading follows that GC); --modules lists the modules loaded.
// --node runs `node <flags> bin/caissond` instead of bin/caissond (its first line's flags are
// then not used); --env adds a variable to caissond's environment. Both are for trying settings.

interface Options {
  readonly runs: number;
  readonly pods: number;
  readonly settle: number;
  readonly v8: boolean;
  readonly gc: boolean;
  readonly modules: boolean;
  readonly launch: CaissonLaunch;
}

type Sample = Map<string, number>;

function parseOptions(argv: readonly string[]): Options {
  let runs = 1;
  let pods = 1;
  let settle = 0;
  let v8 = false;
  let gc = false;
  let modules = false;
  let command: string[] | undefined;
  const env: NodeJS.ProcessEnv = {};
  for (let i = 0; i < argv.length; i++) {
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return next;
    };
    const arg = argv[i];
    if (arg === '--runs') runs = Number(value());
    else if (arg === '--pods') pods = Number(value());
    else if (arg === '--settle') settle = Number(value());
    else if (arg === '--v8') v8 = true;
    else if (arg === '--gc') gc = v8 = true;
    else if (arg === '--modules') modules = v8 = true;
    else if (arg === '--node') command = [process.execPath, ...value().split(/\s+/).filter(Boolean)];
    else if (arg === '--env') {
      const [name = '', ...rest] = value().split('=');
      env[name] = rest.join('=');
    } else throw new Error(`unknown option ${arg}`);
  }
  if (!(runs >= 1) || !(pods >= 1) || !(settle >= 0)) throw new Error('--runs and --pods need a number of at least 1, --settle one of at least 0');
  return { runs, pods, settle, v8, gc, modules, launch: { ...(command ? { command } : {}), env } };
}

const KIB = 1024;

/** VmRSS and its split (status), the smaps_rollup totals, and RSS by kind of mapping (smaps). */
function readProcMemory(pid: number): Sample {
  const sample: Sample = new Map();
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  for (const key of ['VmRSS', 'RssAnon', 'RssFile', 'RssShmem']) sample.set(key, Number(new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? NaN) * KIB);
  sample.set('threads', Number(/^Threads:\s+(\d+)$/m.exec(status)?.[1] ?? NaN));
  const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  for (const key of ['Pss', 'Shared_Clean', 'Private_Clean', 'Private_Dirty', 'Swap']) sample.set(key, Number(new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(rollup)?.[1] ?? NaN) * KIB);
  const exe = fs.readlinkSync(`/proc/${pid}/exe`);
  const kinds = new Map<string, number>([['node executable', 0], ['other files', 0], ['brk heap (malloc)', 0], ['anonymous mmaps', 0], ['stack and other', 0]]);
  let kind = 'stack and other';
  for (const line of fs.readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header) {
      const name = header[1] ?? '';
      kind = name === exe ? 'node executable' : name.startsWith('/') ? 'other files' : name === '[heap]' ? 'brk heap (malloc)' : name === '' ? 'anonymous mmaps' : 'stack and other';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB$/.exec(line);
    if (rss) kinds.set(kind, (kinds.get(kind) ?? 0) + Number(rss[1]) * KIB);
  }
  for (const [name, bytes] of kinds) sample.set(name, bytes);
  return sample;
}

/** Asks the preload (bench/v8-report.ts) for V8's figures; they join the sample. */
async function readV8(pid: number, file: string, sample: Sample, modules: string[][]): Promise<void> {
  fs.rmSync(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 50 && !fs.existsSync(file); i++) await delay(20);
  await delay(20);
  const report = JSON.parse(fs.readFileSync(file, 'utf8')) as V8Report;
  const usage = report.memoryUsage;
  sample.set('V8 heap total', usage.heapTotal);
  sample.set('V8 heap used', usage.heapUsed);
  for (const space of report.spaces) sample.set(`  ${space.name} (used)`, space.used);
  sample.set('  bytecode and metadata', report.code.bytecodeAndMetadata);
  sample.set('external (Buffers etc.)', usage.external);
  sample.set('modules loaded', report.modules.length);
  modules.push([...report.modules]);
}

async function measureOnce(options: Options, work: string, registry: { host: string }, image: string, cleanups: Cleanup[]): Promise<[Sample[], string[][]]> {
  const v8File = path.join(work, 'v8-report.json');
  const env = options.v8 ? { ...options.launch.env, NODE_OPTIONS: `--require ${path.join(__dirname, 'v8-report.js')}`, CAISSON_V8_REPORT: v8File, ...(options.gc ? { CAISSON_V8_GC: '1' } : {}) } : options.launch.env;
  const engine = await startCaisson({ work, registry: registry.host, pauseImage: '', bridge: 'cbenchidle0', subnet: '10.95.0.0/16' }, { ...options.launch, ...(env ? { env } : {}) });
  cleanups.push({ what: `stop caissond ${engine.pid}`, run: () => engine.stop() });
  const client = new CriClient(engine.socket);
  cleanups.push({ what: 'close the client', run: () => client.close() });
  cleanups.push({ what: 'remove what caissond still has', run: () => removeEveryPod(client) });
  await client.call('Status', {}, { timeoutMs: RPC_TIMEOUT_MS });
  const modules: string[][] = [];
  const measure = async (ms = 2_000): Promise<Sample> => {
    await delay(ms);
    const sample = readProcMemory(engine.pid);
    if (options.v8) await readV8(engine.pid, v8File, sample, modules);
    return sample;
  };
  const started = await measure();
  await client.call('PullImage', { image: { image } }, { timeoutMs: RPC_TIMEOUT_MS });
  const logs = path.join(work, 'pod-logs');
  fs.mkdirSync(logs);
  const cpuBefore = cpuMs(engine.pid);
  for (let pod = 0; pod < options.pods; pod++) await removePod(client, await startPod(client, image, logs, 'POD'));
  const cpuPerPod = (cpuMs(engine.pid) - cpuBefore) / options.pods;
  const warm = await measure();
  warm.set('CPU ms per pod (start + removal)', cpuPerPod);
  const samples = [started, warm];
  if (options.settle > 0) samples.push(await measure(options.settle * 1000));
  client.close();
  await engine.stop();
  return [samples, modules];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? NaN) : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
}

async function main(): Promise<void> {
  catchInterrupts();
  const options = parseOptions(process.argv.slice(2));
  const work = makeTempRoot('bench-idle');
  const cleanups: Cleanup[] = [{ what: 'delete bridge cbenchidle0', run: () => runProgram('ip', ['link', 'del', 'cbenchidle0']).then(() => undefined, () => undefined) }];
  try {
    const { registry, image } = await startBusyboxRegistry();
    cleanups.push({ what: 'stop the registry', run: () => registry.stop() });
    const runs: Sample[][] = [];
    let modules: string[][] = [];
    for (let run = 0; run < options.runs; run++) {
      const dir = path.join(work, `run-${run}`);
      fs.mkdirSync(dir);
      const [samples, loaded] = await measureOnce(options, dir, registry, image, cleanups);
      runs.push(samples);
      modules = loaded;
    }
    const keys = [...(runs[0]?.[1]?.keys() ?? [])];
    const column = (at: number, key: string): string => {
      const value = median(runs.map((run) => run[at]?.get(key) ?? NaN));
      if (key.startsWith('CPU')) return at === 1 ? value.toFixed(1) : '—';
      return key === 'threads' || key === 'modules loaded' ? String(value) : formatMib(value);
    };
    process.stdout.write(`caissond memory, median of ${options.runs} run(s)${options.launch.command ? `, run as ${options.launch.command.join(' ')}` : ''}${Object.keys(options.launch.env ?? {}).length ? `, env ${JSON.stringify(options.launch.env)}` : ''}:\n\n`);
    const header = ['after start', options.pods === 1 ? 'after a warm-up pod' : `after ${options.pods} pods`, ...(options.settle > 0 ? [`${options.settle} s later`] : [])];
    printTable(['measure', ...header], keys.map((key) => [key, ...header.map((_, at) => column(at, key))]));
    if (options.modules) {
      const [atStart = [], afterPod = []] = modules;
      process.stdout.write(`\nModules loaded at start (${atStart.length}):\n${atStart.join('\n')}\n\nLoaded by the warm-up pod:\n${afterPod.filter((m) => !atStart.includes(m)).join('\n')}\n`);
    }
  } finally {
    await runCleanups('idle memory benchmark', cleanups, work);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`idle memory benchmark failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
