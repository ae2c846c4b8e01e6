import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import * as path from 'node:path';
import { execProcessSpec, withExecOption } from '../containers/exec-sync';
import type { ContainerRecord } from '../containers/container-record';
import type { OciProcess, OciSpec } from '../oci/oci-spec';
import type { OciRuntime } from '../runtime/runtime-registry';
import { exitCodeStatus, failureStatus, type KubeStatus } from './channel-protocol';
import { NO_CONTROL, type RemoteCommand, type StdioControl, type StdioSink } from './remote-command';
import { startTtyExec } from './tty-exec-process';
import { DEFAULT_TERMINAL_SIZE, ttyProcessSpec } from './tty-process-spec';
import { readPidFile } from '../host-programs/pid-file';
import { whenDrained } from './stream-drain';

// One exec (the Exec RPC's command, started when the client opens the streaming URL): it runs
// with the runtime's exec from the container's own process (as ExecSync). Without a TTY its stdio
// is piped to the sink the transport gave; with one it runs on a pseudo-terminal
// (tty-exec-process.ts). When the command exits and its output is drained, the sink is told how
// it ended. An abort (the client went away) kills the command by the pid the runtime wrote.

export interface ExecTarget {
  readonly runtime: OciRuntime;
  readonly record: ContainerRecord;
  readonly cmd: readonly string[];
  readonly tty: boolean;
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
}

/** After the command exits, how long its output may still drain (a background child may hold the pipes). */
const DRAIN_AFTER_EXIT_MS = 2_000;

/** The exec of `target` as a session the streaming transports can serve. */
export function execCommand(target: ExecTarget): RemoteCommand {
  return {
    description: `exec in container ${target.record.id}`,
    stdin: target.stdin,
    stdout: target.stdout,
    stderr: target.stderr,
    tty: target.tty,
    start: (sink, onError) => startExec(target, sink, onError),
  };
}

/** Runs the command of `target`: output and the final Status go to `output`. */
export function startExec(target: ExecTarget, output: StdioSink, onError: (error: unknown) => void): StdioControl {
  const prepared = prepareExec(target);
  if ('failure' in prepared) {
    output.done(failureStatus(prepared.failure));
    return NO_CONTROL;
  }
  if (target.tty) {
    return startTtyExec(
      {
        description: `exec in container ${target.record.id}`,
        argv: prepared.argv,
        pidFile: prepared.pidFile,
        size: DEFAULT_TERMINAL_SIZE,
        stdin: target.stdin,
        stdout: target.stdout,
        cleanUp: prepared.cleanUp,
      },
      output,
      onError,
    );
  }
  return startPipedExec(target, prepared, output, onError);
}

interface PreparedExec {
  /** The runtime's exec command line, with --pid-file. */
  readonly argv: readonly string[];
  readonly pidFile: string;
  /** Removes the process and pid files. */
  cleanUp(): void;
}

/**
 * Writes the process file next to the container's bundle and builds the runtime's exec command
 * line. The terminal starts at the default size: the transport starts the exec when the client
 * connects, before any resize message can arrive, and the first one is applied when it does.
 */
function prepareExec(target: ExecTarget): PreparedExec | { readonly failure: string } {
  let processSpec: OciProcess;
  try {
    processSpec = execProcessSpec(readContainerProcess(target.record), target.cmd);
    if (target.tty) processSpec = ttyProcessSpec(processSpec, DEFAULT_TERMINAL_SIZE);
  } catch (error) {
    return { failure: error instanceof Error ? error.message : String(error) };
  }
  const stateDir = path.dirname(target.record.paths.bundle);
  const name = randomBytes(8).toString('hex');
  const processFile = path.join(stateDir, `exec-${name}.json`);
  const pidFile = path.join(stateDir, `exec-${name}.pid`);
  const cleanUp = (): void => {
    fs.rmSync(processFile, { force: true });
    fs.rmSync(pidFile, { force: true });
  };
  try {
    fs.writeFileSync(processFile, JSON.stringify(processSpec), { mode: 0o600, flag: 'wx' });
    const argv = withExecOption(target.runtime.execCommand(target.record.id, processFile), processFile, ['--pid-file', pidFile]);
    if (argv[0] === undefined) throw new Error('the runtime gave an empty exec command line');
    return { argv, pidFile, cleanUp };
  } catch (error) {
    cleanUp();
    return { failure: `cannot exec in container ${target.record.id}: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** The exec without a TTY: stdin, stdout and stderr are pipes. */
function startPipedExec(target: ExecTarget, prepared: PreparedExec, output: StdioSink, onError: (error: unknown) => void): StdioControl {
  let finished = false;
  const finish = (status: KubeStatus): void => {
    if (finished) return;
    finished = true;
    output.done(status);
  };
  const { pidFile, cleanUp: cleanUpFiles } = prepared;
  const [file = '', ...args] = prepared.argv;

  const child = spawn(file, args, {
    stdio: [target.stdin ? 'pipe' : 'ignore', target.stdout ? 'pipe' : 'ignore', target.stderr ? 'pipe' : 'pipe'],
  });
  // The runtime's own complaints (no such file, …) arrive on stderr too; kept to report a failed start.
  let runtimeStderr = '';
  let exited: { code: number } | undefined;
  let outputOpen = (target.stdout ? 1 : 0) + 1;
  let drainTimer: NodeJS.Timeout | undefined;
  /** Output paused because the client is behind: the drain timer must not cut it off meanwhile. */
  let paused = 0;

  const maybeFinish = (): void => {
    if (!exited || outputOpen > 0) return;
    clearTimeout(drainTimer);
    cleanUpFiles();
    finish(exitCodeStatus(exited.code));
  };
  // After the exit, output that stops flowing for DRAIN_AFTER_EXIT_MS belongs to a background
  // child holding the pipes: cut it off. Output waiting for a slow client is not that.
  const armDrainTimer = (): void => {
    clearTimeout(drainTimer);
    if (!exited || paused > 0) return;
    drainTimer = setTimeout(() => {
      child.stdout?.destroy();
      child.stderr?.destroy();
    }, DRAIN_AFTER_EXIT_MS);
  };
  const forward = (stream: NodeJS.ReadableStream | null, sink: ((chunk: Buffer) => boolean) | undefined): void => {
    if (!stream) return;
    stream.on('data', (chunk: Buffer) => {
      if (!sink) {
        if (runtimeStderr.length < 4096) runtimeStderr += chunk.toString();
        return;
      }
      if (finished) return;
      armDrainTimer();
      if (sink(chunk)) return;
      stream.pause();
      paused++;
      clearTimeout(drainTimer);
      output.whenDrained(() => {
        paused--;
        stream.resume();
        armDrainTimer();
      });
    });
    stream.on('error', () => undefined);
    stream.on('close', () => {
      outputOpen--;
      maybeFinish();
    });
  };
  forward(child.stdout, (chunk) => output.stdout(chunk));
  forward(child.stderr, target.stderr ? (chunk) => output.stderr(chunk) : undefined);
  child.stdin?.on('error', () => undefined);

  child.on('error', (error) => {
    exited = { code: 126 };
    outputOpen = 0;
    cleanUpFiles();
    onError(error);
    finish(failureStatus(`cannot run the runtime's exec (${file}): ${error.message}`));
  });
  child.on('exit', (code, signal) => {
    exited = { code: code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0) };
    armDrainTimer();
    maybeFinish();
  });

  return {
    writeStdin: (data) => (child.stdin?.writable ? child.stdin.write(data) : true),
    whenStdinDrained: (resume) => whenDrained([child.stdin ?? undefined], resume),
    closeStdin: () => child.stdin?.end(),
    resize: () => undefined,
    abort: () => {
      child.stdin?.end();
      if (!exited) killExec(pidFile, () => child.kill('SIGKILL'));
    },
  };
}

function readContainerProcess(record: ContainerRecord): OciProcess {
  const file = path.join(record.paths.bundle, 'config.json');
  const spec = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<OciSpec>;
  if (!spec.process) throw new Error(`the OCI spec of container ${record.id} (${file}) has no process`);
  return spec.process;
}

/** Kills the exec'd process (by the pid the runtime wrote) so the runtime client exits; then the client. */
function killExec(pidFile: string, killClient: () => void): void {
  const pid = readPidFile(pidFile);
  try {
    if (pid !== undefined) process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
  setTimeout(killClient, 1_000).unref();
}
