import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import * as path from 'node:path';
import type { WebSocket } from 'ws';
import { execProcessSpec, withExecOption } from '../containers/exec-sync';
import type { ContainerRecord } from '../containers/container-record';
import type { OciProcess, OciSpec } from '../oci/oci-spec';
import type { OciRuntime } from '../runtime/runtime-registry';
import { Channel, exitCodeStatus, failureStatus, frame, parseClientMessage, type KubeStatus } from './channel-protocol';

// One exec over a WebSocket: the command runs with the runtime's exec from the container's own
// process (as ExecSync), its stdio piped to the channels the request asked for. v5 clients
// half-close stdin with [255, 0]; older ones close stdin by closing the socket. When the command
// exits and its output is drained, the error channel says how it ended (a Status JSON on v4 and
// v5, plain text on channel.k8s.io) and the socket closes. A socket that closes early kills the
// command by the pid the runtime wrote. No TTY yet: a TTY request is answered with a Failure.

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

export function serveExec(ws: WebSocket, subprotocol: string, target: ExecTarget, onError: (error: unknown) => void): void {
  const v5 = subprotocol === 'v5.channel.k8s.io';
  const statusJson = subprotocol === 'v5.channel.k8s.io' || subprotocol === 'v4.channel.k8s.io';
  const finish = (status: KubeStatus): void => {
    if (ws.readyState !== ws.OPEN) return;
    if (statusJson) ws.send(frame(Channel.Error, JSON.stringify(status)));
    else if (status.status === 'Failure') ws.send(frame(Channel.Error, status.message ?? 'failed'));
    ws.close(1000);
  };
  if (target.tty) {
    finish(failureStatus(`exec with a TTY in container ${target.record.id} is not supported yet by this engine; run it without a TTY (no -t)`));
    return;
  }

  let processSpec: OciProcess;
  try {
    processSpec = execProcessSpec(readContainerProcess(target.record), target.cmd);
  } catch (error) {
    finish(failureStatus(error instanceof Error ? error.message : String(error)));
    return;
  }
  const stateDir = path.dirname(target.record.paths.bundle);
  const name = randomBytes(8).toString('hex');
  const processFile = path.join(stateDir, `exec-${name}.json`);
  const pidFile = path.join(stateDir, `exec-${name}.pid`);
  const cleanUpFiles = (): void => {
    fs.rmSync(processFile, { force: true });
    fs.rmSync(pidFile, { force: true });
  };
  let argv: string[];
  try {
    fs.writeFileSync(processFile, JSON.stringify(processSpec), { mode: 0o600, flag: 'wx' });
    argv = withExecOption(target.runtime.execCommand(target.record.id, processFile), processFile, ['--pid-file', pidFile]);
  } catch (error) {
    cleanUpFiles();
    finish(failureStatus(`cannot exec in container ${target.record.id}: ${error instanceof Error ? error.message : String(error)}`));
    return;
  }
  const [file, ...args] = argv;
  if (file === undefined) {
    cleanUpFiles();
    finish(failureStatus('the runtime gave an empty exec command line'));
    return;
  }

  const child = spawn(file, args, {
    stdio: [target.stdin ? 'pipe' : 'ignore', target.stdout ? 'pipe' : 'ignore', target.stderr ? 'pipe' : 'pipe'],
  });
  // The runtime's own complaints (no such file, …) arrive on stderr too; kept to report a failed start.
  let runtimeStderr = '';
  let exited: { code: number } | undefined;
  let outputOpen = (target.stdout ? 1 : 0) + 1;
  let drainTimer: NodeJS.Timeout | undefined;

  const maybeFinish = (): void => {
    if (!exited || outputOpen > 0) return;
    clearTimeout(drainTimer);
    cleanUpFiles();
    finish(exitCodeStatus(exited.code));
  };
  const forward = (stream: NodeJS.ReadableStream | null, channel: Channel, keep: boolean): void => {
    if (!stream) return;
    stream.on('data', (chunk: Buffer) => {
      if (!keep) {
        if (runtimeStderr.length < 4096) runtimeStderr += chunk.toString();
        return;
      }
      if (ws.readyState === ws.OPEN) ws.send(frame(channel, chunk));
    });
    stream.on('error', () => undefined);
    stream.on('close', () => {
      outputOpen--;
      maybeFinish();
    });
  };
  forward(child.stdout, Channel.Stdout, true);
  forward(child.stderr, Channel.Stderr, target.stderr);
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
    drainTimer = setTimeout(() => {
      child.stdout?.destroy();
      child.stderr?.destroy();
    }, DRAIN_AFTER_EXIT_MS);
    maybeFinish();
  });

  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    const message = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (!isBinary) return;
    const parsed = parseClientMessage(message, v5);
    if (parsed.kind === 'close' && parsed.channel === Channel.Stdin) child.stdin?.end();
    if (parsed.kind === 'data' && parsed.channel === Channel.Stdin && child.stdin?.writable) child.stdin.write(parsed.data);
    // Resize (channel 4) means nothing without a TTY.
  });
  ws.on('close', () => {
    child.stdin?.end();
    if (!exited) killExec(pidFile, () => child.kill('SIGKILL'));
  });
}

function readContainerProcess(record: ContainerRecord): OciProcess {
  const file = path.join(record.paths.bundle, 'config.json');
  const spec = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<OciSpec>;
  if (!spec.process) throw new Error(`the OCI spec of container ${record.id} (${file}) has no process`);
  return spec.process;
}

/** Kills the exec'd process (by the pid the runtime wrote) so the runtime client exits; then the client. */
function killExec(pidFile: string, killClient: () => void): void {
  try {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    if (Number.isSafeInteger(pid) && pid > 0) process.kill(pid, 'SIGKILL');
  } catch {
    // Not written yet, or already gone.
  }
  setTimeout(killClient, 1_000).unref();
}
