import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CriClient } from '../../cli/cri-client';
import { packageInfo } from '../../core/package-info';
import { removeEverything } from './test-daemon';

// Runs the real `bin/caissond` (from dist/, as an operator would) for tests about the process:
// signals, exit codes, pidfiles, third-party plugins loaded from daemon.json.

export interface SpawnedDaemon {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves with the exit code (or the signal name) once the process has ended. */
  readonly exited: Promise<number | string>;
}

export function spawnCaissond(args: readonly string[], env: NodeJS.ProcessEnv = {}): SpawnedDaemon {
  const child = spawn(process.execPath, [path.join(packageInfo().root, 'bin', 'caissond'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  return { child, output: () => output, exited };
}

/** Waits until Version answers on the socket, or fails with the daemon's output if it exits. */
export async function waitUntilServing(daemon: SpawnedDaemon, socket: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | string | undefined;
  void daemon.exited.then((code) => (exitCode = code));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`caissond exited (${exitCode}) before serving:\n${daemon.output()}`);
    if (fs.existsSync(socket)) {
      const client = new CriClient(socket);
      try {
        await client.call('Version', {}, { timeoutMs: 1000 });
        return;
      } catch {
        // not ready yet
      } finally {
        client.close();
      }
    }
    await delay(100);
  }
  throw new Error(`caissond did not serve on ${socket} within ${timeoutMs} ms:\n${daemon.output()}`);
}

/** SIGKILLs the daemon if it is still running (teardown after a failed test). */
export async function killIfRunning(daemon: SpawnedDaemon): Promise<void> {
  if (daemon.child.exitCode === null && daemon.child.signalCode === null) {
    daemon.child.kill('SIGKILL');
    await daemon.exited;
  }
}

export function writeDaemonJson(root: string, config: object): string {
  const file = path.join(root, 'daemon.json');
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/**
 * Teardown for tests that spawn daemons on one root: closes the clients, removes what is left
 * through the last daemon if it still runs (so conmon and runc end too), SIGKILLs every daemon,
 * and prints their output when the test failed.
 */
export async function tearDownSpawned(spawned: SpawnedDaemon[], clients: CriClient[], socket: string, failed: boolean): Promise<void> {
  clients.splice(0).forEach((client) => client.close());
  const last = spawned[spawned.length - 1];
  if (last && last.child.exitCode === null && last.child.signalCode === null) {
    await removeEverything(socket).catch((error: unknown) => process.stderr.write(`teardown: ${String(error)}\n`));
  }
  for (const daemon of spawned.splice(0)) {
    await killIfRunning(daemon);
    if (failed) process.stderr.write(`--- caissond output ---\n${daemon.output()}\n`);
  }
}
