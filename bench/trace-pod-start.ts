import 'reflect-metadata';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { CriClient } from '../cli/cri-client';
import { runProgram } from '../core/host-programs/run-program';
import { startBusyboxRegistry } from '../test/support/busybox-registry';
import { makeTempRoot } from '../test/support/temp-root';
import { startCaisson } from './bench-engines';
import { catchInterrupts, printTable, RPC_TIMEOUT_MS, runCleanups, type Cleanup } from './bench-support';

// Where the time of one pod start goes: caissond (a separate process on its own root and CNI
// bridge) runs RunPodSandbox, CreateContainer and StartContainer of a busybox `sleep 3600` once,
// traced with `strace -f` from the first RPC to the last answer: every program spawned (with
// the time from its exec to its exit, children included), every fsync, and the RPCs' own times.
// Run: npm run build && node dist/bench/trace-pod-start.js

interface Exec {
  readonly pid: number;
  readonly at: number;
  readonly argv: string;
  end?: number;
}

async function main(): Promise<void> {
  catchInterrupts();
  const work = makeTempRoot('bench-trace');
  const logs = path.join(work, 'pod-logs');
  fs.mkdirSync(logs);
  const cleanups: Cleanup[] = [];
  try {
    const { registry, image } = await startBusyboxRegistry();
    cleanups.push({ what: 'stop the registry', run: () => registry.stop() });
    cleanups.push({ what: 'delete bridge cbench2', run: () => runProgram('ip', ['link', 'del', 'cbench2']).then(() => undefined, () => undefined) });
    const engine = await startCaisson({ work, registry: registry.host, pauseImage: '', bridge: 'cbench2', subnet: '10.96.0.0/16' });
    cleanups.push({ what: 'stop caissond', run: () => engine.stop() });
    const client = new CriClient(engine.socket);
    cleanups.push({ what: 'close the client', run: () => client.close() });
    await client.call('PullImage', { image: { image } }, { timeoutMs: RPC_TIMEOUT_MS });

    const pod = (n: number) => ({
      metadata: { name: `trace-${n}`, namespace: 'bench', uid: `uid-trace-${n}`, attempt: 0 },
      hostname: `trace-${n}`,
      log_directory: path.join(logs, String(n)),
      linux: { security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
    });
    const container = { metadata: { name: 'sleep', attempt: 0 }, image: { image }, command: ['sleep', '3600'], log_path: 'sleep.log' };
    const times: [string, number][] = [];
    const start = async (n: number, timed: boolean): Promise<string> => {
      const config = pod(n);
      let t = performance.now();
      const { pod_sandbox_id } = await client.call('RunPodSandbox', { config }, { timeoutMs: RPC_TIMEOUT_MS });
      if (timed) times.push(['RunPodSandbox', performance.now() - t]);
      t = performance.now();
      const { container_id } = await client.call('CreateContainer', { pod_sandbox_id, config: container, sandbox_config: config }, { timeoutMs: RPC_TIMEOUT_MS });
      if (timed) times.push(['CreateContainer', performance.now() - t]);
      t = performance.now();
      await client.call('StartContainer', { container_id }, { timeoutMs: RPC_TIMEOUT_MS });
      if (timed) times.push(['StartContainer', performance.now() - t]);
      return String(pod_sandbox_id);
    };
    const remove = async (id: string): Promise<void> => {
      await client.call('StopPodSandbox', { pod_sandbox_id: id }, { timeoutMs: RPC_TIMEOUT_MS });
      await client.call('RemovePodSandbox', { pod_sandbox_id: id }, { timeoutMs: RPC_TIMEOUT_MS });
    };
    await remove(await start(0, false));

    const traceFile = path.join(work, 'strace.txt');
    const strace = spawn('strace', ['-f', '-ttt', '-qq', '-e', 'trace=execve,fsync,fdatasync,exit_group', '-e', 'signal=none', '-o', traceFile, '-p', String(engine.pid)], { stdio: 'ignore' });
    cleanups.push({ what: 'stop strace', run: () => void strace.kill('SIGINT') });
    await delay(1_000);
    const wallStart = Date.now() / 1000;
    const t0 = performance.now();
    const podId = await start(1, true);
    const total = performance.now() - t0;
    strace.kill('SIGINT');
    await new Promise((resolve) => strace.once('exit', resolve));
    await remove(podId);
    report(fs.readFileSync(traceFile, 'utf8'), wallStart, total, times);
  } finally {
    await runCleanups('pod start trace', cleanups, work);
  }
}

function report(trace: string, wallStart: number, totalMs: number, times: readonly [string, number][]): void {
  const execs: Exec[] = [];
  const byPid = new Map<number, Exec>();
  let fsyncs = 0;
  for (const line of trace.split('\n')) {
    const match = /^(\d+)\s+(\d+\.\d+)\s+(\w+)\((.*)$/.exec(line);
    if (!match) continue;
    const pid = Number(match[1]);
    const at = Number(match[2]);
    if (at < wallStart) continue;
    const call = match[3] ?? '';
    if (call === 'execve' && !/= -1/.test(line)) {
      const argv = /\[(.*?)\]/.exec(match[4] ?? '')?.[1]?.replace(/"/g, '').replace(/, /g, ' ') ?? '';
      const exec = { pid, at, argv: argv.slice(0, 110) };
      execs.push(exec);
      byPid.set(pid, exec);
    } else if (call === 'exit_group') {
      const exec = byPid.get(pid);
      if (exec && exec.end === undefined) exec.end = at;
    } else if (call === 'fsync' || call === 'fdatasync') {
      fsyncs += 1;
    }
  }
  process.stdout.write(`One pod start (RunPodSandbox + CreateContainer + StartContainer, CNI bridge): ${totalMs.toFixed(1)} ms\n\n`);
  printTable(['RPC', 'ms'], times.map(([rpc, ms]) => [rpc, ms.toFixed(1)]));
  process.stdout.write(`\nPrograms caissond and its children executed (${execs.length}), by start time; fsync and fdatasync calls: ${fsyncs}\n\n`);
  printTable(
    ['start (ms)', 'ran (ms)', 'pid', 'argv'],
    execs.map((e) => [((e.at - wallStart) * 1000).toFixed(1), e.end === undefined ? 'still running' : ((e.end - e.at) * 1000).toFixed(1), String(e.pid), e.argv]),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`pod start trace failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
