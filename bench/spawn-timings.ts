import 'reflect-metadata';
// The module object itself (not an import namespace, whose members are read-only getters).
import childProcess = require('node:child_process');
import { performance } from 'node:perf_hooks';
import { ProgramLauncher, type LaunchRequest } from '../core/host-programs/program-launcher';
import { containerConfig, podConfig } from '../test/support/pod-fixtures';
import { makeTempRoot } from '../test/support/temp-root';
import { catchInterrupts, checkInterrupted, RPC_TIMEOUT_MS, runCleanups, startBenchDaemon, type Cleanup } from './bench-support';

// Where one pod start's time goes, untraced: an in-process caissond starts host-network pods
// (RunPodSandbox, CreateContainer, StartContainer of busybox `sleep 3600`, then StopPodSandbox
// and RemovePodSandbox), and every program the daemon spawns is timed: how long `spawn` itself
// blocked the event loop (fork and exec happen inside it), and how long the program ran. Unlike
// trace-pod-start.ts (strace, exact lists, distorted times), the times here are real. Programs
// run by the launcher shell show "(launcher)" and block nothing: the shell forks them.
// Run: npm run build && node dist/bench/spawn-timings.js

const WARM_UPS = 3;
const SHOWN = 3;

interface SpawnTiming {
  readonly atMs: number;
  readonly blockedMs: number;
  readonly ranMs: number;
  readonly command: string;
}

const spawns: SpawnTiming[] = [];
let origin = 0;

/** Wraps child_process.spawn (the daemon calls it as a property, so the wrapper sees every call). */
function timeEverySpawn(): void {
  const spawn = childProcess.spawn;
  const timed = function (this: unknown, ...args: Parameters<typeof spawn>) {
    const started = performance.now();
    const child = spawn.apply(this, args);
    const blockedMs = performance.now() - started;
    const [file, argv] = args as unknown as [string, readonly string[] | undefined];
    const command = [file, ...(Array.isArray(argv) ? argv : [])].join(' ').replace(/\n/g, '; ');
    child.once('exit', () => spawns.push({ atMs: started - origin, blockedMs, ranMs: performance.now() - started, command }));
    return child;
  };
  (childProcess as { spawn: unknown }).spawn = timed;
}

/** Times the programs the launcher shell forks: the daemon's thread only writes a line for them. */
function timeEveryLaunch(): void {
  const run = ProgramLauncher.prototype.run;
  ProgramLauncher.prototype.run = async function (this: ProgramLauncher, request: LaunchRequest) {
    const started = performance.now();
    try {
      return await run.call(this, request);
    } finally {
      const command = [request.file, ...request.args].join(' ').replace(/\n/g, '; ');
      spawns.push({ atMs: started - origin, blockedMs: 0, ranMs: performance.now() - started, command: `(launcher) ${command}` });
    }
  };
}

function show(title: string, from: number, to: number): void {
  console.log(title);
  for (const s of spawns.filter((t) => t.atMs >= from && t.atMs < to).sort((a, b) => a.atMs - b.atMs)) {
    const words = s.command.split(' ');
    const short = words.map((w) => (w.length > 40 ? `…${w.slice(-12)}` : w)).join(' ');
    console.log(`  at ${s.atMs.toFixed(1).padStart(6)} ms  spawn blocked ${s.blockedMs.toFixed(1).padStart(4)} ms  ran ${s.ranMs.toFixed(1).padStart(5)} ms  ${short.slice(0, 110)}`);
  }
}

async function main(): Promise<void> {
  catchInterrupts();
  timeEverySpawn();
  timeEveryLaunch();
  const cleanups: Cleanup[] = [];
  const work = makeTempRoot('bench-spawns');
  try {
    const daemon = await startBenchDaemon(work, cleanups);
    const { client } = daemon;
    for (let i = 0; i < WARM_UPS + SHOWN; i++) {
      checkInterrupted();
      const pod = podConfig(daemon.logs, { linux: { security_context: { namespace_options: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } } } });
      delete pod['hostname'];
      spawns.length = 0;
      origin = performance.now();
      const { pod_sandbox_id: podId } = await client.call('RunPodSandbox', { config: pod }, { timeoutMs: RPC_TIMEOUT_MS });
      const created = performance.now() - origin;
      const config = containerConfig('sleep', daemon.image, ['sleep', '3600']);
      const { container_id: containerId } = await client.call('CreateContainer', { pod_sandbox_id: podId, config, sandbox_config: pod }, { timeoutMs: RPC_TIMEOUT_MS });
      const made = performance.now() - origin;
      await client.call('StartContainer', { container_id: containerId }, { timeoutMs: RPC_TIMEOUT_MS });
      const started = performance.now() - origin;
      await client.call('StopPodSandbox', { pod_sandbox_id: podId }, { timeoutMs: RPC_TIMEOUT_MS });
      await client.call('RemovePodSandbox', { pod_sandbox_id: podId }, { timeoutMs: RPC_TIMEOUT_MS });
      const removed = performance.now() - origin;
      if (i < WARM_UPS) continue;
      console.log(`pod ${i - WARM_UPS + 1}: RunPodSandbox ${created.toFixed(1)} ms, CreateContainer ${(made - created).toFixed(1)} ms, StartContainer ${(started - made).toFixed(1)} ms; Stop+RemovePodSandbox ${(removed - started).toFixed(1)} ms`);
      show('  start:', 0, started);
      show('  removal:', started, removed);
    }
  } finally {
    await runCleanups('spawn timings', cleanups, work);
  }
}

main().catch((error: unknown) => {
  console.error('spawn timings failed:', error);
  process.exitCode = 1;
});
