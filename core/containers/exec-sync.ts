import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { DeadlineExceededError, FailedPreconditionError, InvalidArgumentError, ProgramError } from '../errors';
import type { OciProcess, OciSpec } from '../oci/oci-spec';
import type { OciRuntime } from '../runtime/runtime-registry';
import type { ContainerRecord } from './container-record';
import { CappedBuffer } from '../host-programs/capped-buffer';
import { readPidFile } from '../host-programs/pid-file';
import { EXEC_SYNC_MAX_OUTPUT_BYTES, splitOutputBudget } from './exec-output-budget';

// ExecSync: runs a command in a running container with the runtime's exec (`runc exec --process`),
// from a process JSON built from the container's own OCI process (user, env, cwd, capabilities,
// no_new_privileges, AppArmor profile, oom_score_adj: what the kubelet expects a probe to run
// as). stdout and stderr are kept up to a budget the two share (so the answer fits the kubelet's
// 16 MiB message limit; see exec-output-budget.ts) and the rest is read and dropped, so a chatty
// command neither blocks on a full pipe nor grows the daemon. On timeout the exec'd process is
// killed by the pid the runtime wrote (killing the `runc exec` client alone would leave it running
// in the container), then the client.

/** How long to wait for the runtime to write the exec'd process's pid once the timeout fires. */
const PID_FILE_WAIT_MS = 2_000;
/** How long the runtime client gets to reap the killed process and exit before it is killed. */
const REAP_GRACE_MS = 1_000;
/**
 * After the runtime client exits, how long to keep reading output: a background child of the
 * command may hold the pipes open forever, and ExecSync answers once the command has exited.
 */
const DRAIN_AFTER_EXIT_MS = 2_000;
/** setTimeout's longest delay; longer timeouts are clamped to it (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ExecSyncLimits {
  /** Most bytes kept of stdout and stderr together; the rest is read and dropped. */
  readonly maxOutputBytes?: number;
  /** Kills the command (as on timeout) when aborted, for example when the client goes away. */
  readonly signal?: AbortSignal;
}

export interface ExecSyncResult {
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  readonly exitCode: number;
}

/**
 * Runs `cmd` in the running container `record` and resolves with its output and exit code.
 * `timeoutSeconds` 0 waits for as long as the command runs; after a positive timeout the command
 * is killed and the promise rejects with DeadlineExceededError.
 */
export async function execSync(
  runtime: OciRuntime,
  record: ContainerRecord,
  cmd: readonly string[],
  timeoutSeconds: number,
  limits: ExecSyncLimits = {},
): Promise<ExecSyncResult> {
  const program = cmd[0];
  if (program === undefined || program === '') throw new InvalidArgumentError(`ExecSync in container ${record.id} needs a command`);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds < 0) {
    throw new InvalidArgumentError(`ExecSync timeout must be 0 (none) or a positive number of seconds, not ${timeoutSeconds}`);
  }
  if (record.state !== 'CONTAINER_RUNNING') {
    throw new FailedPreconditionError(`container ${record.id} is not running (${record.state}); ExecSync needs a running container`);
  }
  const maxOutputBytes = limits.maxOutputBytes ?? EXEC_SYNC_MAX_OUTPUT_BYTES;
  const processSpec = execProcessSpec(readContainerProcess(record), cmd);

  const stateDir = path.dirname(record.paths.bundle);
  const token = randomBytes(8).toString('hex');
  const processFile = path.join(stateDir, `exec-${token}.json`);
  const pidFile = path.join(stateDir, `exec-${token}.pid`);
  try {
    fs.writeFileSync(processFile, JSON.stringify(processSpec), { mode: 0o600, flag: 'wx' });
    const argv = withExecOption(runtime.execCommand(record.id, processFile), processFile, ['--pid-file', pidFile]);
    const outcome = await runExec(argv, pidFile, {
      timeoutMs: timeoutSeconds > 0 ? Math.min(timeoutSeconds * 1000, MAX_TIMER_MS) : 0,
      maxOutputBytes,
      signal: limits.signal,
    });
    if (outcome.stoppedBy === undefined) return outcome.result;
    if (outcome.stoppedBy === 'timeout') {
      throw new DeadlineExceededError(`command ${program} in container ${record.id} timed out after ${timeoutSeconds} s`);
    }
    throw new DeadlineExceededError(`command ${program} in container ${record.id} was killed: the call was cancelled`);
  } finally {
    fs.rmSync(processFile, { force: true });
    fs.rmSync(pidFile, { force: true });
  }
}

/** The process an exec runs: the container's own, with the command's args and no terminal. */
export function execProcessSpec(containerProcess: OciProcess, cmd: readonly string[]): OciProcess {
  return { ...containerProcess, args: [...cmd], terminal: false };
}

/**
 * Adds options to the `exec` subcommand of a runtime's exec command line: they go right after
 * the last `exec` before the process file (global options before `exec` may take any value, and
 * nothing but `--process FILE` follows it), so `runc --root R exec --process F ID` becomes
 * `runc --root R exec --pid-file P --process F ID`.
 */
export function withExecOption(argv: readonly string[], processFile: string, option: readonly string[]): string[] {
  const fileAt = argv.indexOf(processFile);
  const execAt = fileAt < 0 ? -1 : argv.lastIndexOf('exec', fileAt);
  if (execAt < 1) {
    throw new Error(`cannot add "${option.join(' ')}" to the runtime's exec command line (${argv.join(' ')}): no "exec" subcommand before the process file`);
  }
  return [...argv.slice(0, execAt + 1), ...option, ...argv.slice(execAt + 1)];
}

function readContainerProcess(record: ContainerRecord): OciProcess {
  const file = path.join(record.paths.bundle, 'config.json');
  let spec: Partial<OciSpec>;
  try {
    spec = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<OciSpec>;
  } catch (error) {
    throw new FailedPreconditionError(`container ${record.id} has no readable OCI spec at ${file}`, { cause: error });
  }
  if (!spec.process) throw new FailedPreconditionError(`the OCI spec of container ${record.id} (${file}) has no process`);
  return spec.process;
}

interface RunOptions {
  /** 0: no timeout. */
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
  readonly signal: AbortSignal | undefined;
}

type ExecOutcome = { readonly stoppedBy: 'timeout' | 'abort' } | { readonly stoppedBy: undefined; readonly result: ExecSyncResult };

/** Spawns the runtime's exec client; kills the exec'd process on timeout or abort. */
function runExec(argv: readonly string[], pidFile: string, options: RunOptions): Promise<ExecOutcome> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new Error('the runtime gave an empty exec command line'));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout = new CappedBuffer(options.maxOutputBytes);
    const stderr = new CappedBuffer(options.maxOutputBytes);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));

    let stoppedBy: 'timeout' | 'abort' | undefined;
    let exitCode = 0;
    let settled = false;
    let drainTimer: NodeJS.Timeout | undefined;
    const stop = (why: 'timeout' | 'abort'): void => {
      if (stoppedBy || !isRunning(child)) return;
      stoppedBy = why;
      void killExec(child, pidFile);
    };
    const timer = options.timeoutMs > 0 ? setTimeout(() => stop('timeout'), options.timeoutMs) : undefined;
    const onAbort = (): void => stop('abort');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const cleanUp = (): void => {
      settled = true;
      clearTimeout(timer);
      clearTimeout(drainTimer);
      options.signal?.removeEventListener('abort', onAbort);
    };

    child.on('error', (error: NodeJS.ErrnoException) => {
      if (settled) return;
      cleanUp();
      if (isRunning(child)) child.kill('SIGKILL');
      const reason = error.code === 'ENOENT' ? 'failed: program not found' : `failed to start: ${error.message}`;
      reject(new ProgramError(file, args, null, '', reason));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      exitCode = code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
      drainTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, DRAIN_AFTER_EXIT_MS);
    });
    child.on('close', () => {
      if (settled) return;
      cleanUp();
      if (stoppedBy) resolve({ stoppedBy });
      else resolve({ stoppedBy: undefined, result: { ...keptOutput(stdout.buffer(), stderr.buffer(), options.maxOutputBytes), exitCode } });
    });
    if (options.signal?.aborted) stop('abort');
  });
}

/** Each stream read up to the whole budget, cut to its share of it. */
function keptOutput(stdout: Buffer, stderr: Buffer, budget: number): { stdout: Buffer; stderr: Buffer } {
  const share = splitOutputBudget(stdout.length, stderr.length, budget);
  return { stdout: stdout.subarray(0, share.stdout), stderr: stderr.subarray(0, share.stderr) };
}

/**
 * Kills the exec'd process (its process group when it leads one, so its children go too) by the
 * pid the runtime wrote, then gives the runtime client a moment to reap it before killing it.
 */
async function killExec(child: ChildProcess, pidFile: string): Promise<void> {
  const deadline = Date.now() + PID_FILE_WAIT_MS;
  let pid = readPidFile(pidFile);
  while (pid === undefined && isRunning(child) && Date.now() < deadline) {
    await delay(20);
    pid = readPidFile(pidFile);
  }
  // While the client runs it has not reaped the process, so the pid cannot name anything else.
  if (pid !== undefined && isRunning(child)) {
    if (processGroupOf(pid) === pid) signal(-pid);
    signal(pid);
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (isRunning(child)) await Promise.race([exited, delay(REAP_GRACE_MS)]);
  if (isRunning(child)) child.kill('SIGKILL');
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** The process group of a host pid, from /proc/<pid>/stat (after the parenthesised comm). */
function processGroupOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgrp = Number(fields[2]);
    return Number.isSafeInteger(pgrp) ? pgrp : undefined;
  } catch {
    return undefined;
  }
}

function signal(target: number): void {
  try {
    process.kill(target, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
