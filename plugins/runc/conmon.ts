import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeError, launchProgram, runProgram, type CreateContainerOptions } from '../../core/plugin-api';
import type { ConmonAttachEndpoints } from './conmon-attach-protocol';

// Starting a container under conmon: conmon forks away (so the daemon is never the container's
// parent and the container outlives a daemon restart), runs `<runtime> create`, keeps the
// container's stdio, writes the CRI log, and on exit writes the exit code to `exitDir/<id>` and
// `persistDir/exit` (and `persistDir/oom` after an OOM kill). conmon reports the create result
// as JSON on its "sync" descriptor; we give it a regular file rather than a pipe, because conmon
// keeps writing to it later and a pipe whose reader has gone would kill it with SIGPIPE.

const CREATE_TIMEOUT_MS = 60_000;
const SYNC_BACKSTOP_POLL_MS = 100;
const CONMON = 'conmon';

export interface ConmonLaunch {
  readonly options: CreateContainerOptions;
  readonly runtimePath: string;
  /** Global runtime arguments (--root …, then daemon.json runtime-args). */
  readonly runtimeArgs: readonly string[];
  /** Pass --systemd-cgroup to conmon (and so to the runtime). */
  readonly systemdCgroup: boolean;
  /**
   * Called with conmon's pid while conmon waits on its start pipe, before it does anything:
   * the cgroup driver moves it into a cgroup of its own (systemd: a transient scope).
   */
  readonly placeSupervisor?: (pid: number) => Promise<void>;
  /**
   * Or, from drivers that can (cgroupfs): the cgroup.procs files conmon's process joins by
   * itself before it is exec'd, which needs no start pipe and no wait.
   */
  readonly supervisorCgroupProcs?: readonly string[];
}

export async function launchUnderConmon(launch: ConmonLaunch): Promise<{ pid: number }> {
  const { options, runtimePath, runtimeArgs } = launch;
  const { id, paths } = options;
  fs.mkdirSync(paths.persistDir, { recursive: true, mode: 0o700 });
  fs.mkdirSync(paths.exitDir, { recursive: true, mode: 0o700 });
  fs.mkdirSync(paths.socketDir, { recursive: true, mode: 0o700 });
  const syncFile = path.join(paths.persistDir, 'sync');
  const logFile = path.join(paths.persistDir, 'conmon.log');
  const args = [
    '--api-version', '1',
    '-c', id,
    '-u', id,
    '-n', id,
    '-r', runtimePath,
    '-b', paths.bundle,
    '-p', path.join(paths.persistDir, 'pidfile'),
    '-P', path.join(paths.persistDir, 'conmon.pid'),
    '-l', `k8s-file:${paths.logPath}`,
    '--exit-dir', paths.exitDir,
    '--persist-dir', paths.persistDir,
    '--socket-dir-path', paths.socketDir,
    '--full-attach',
    '--log-level', 'error',
    ...runtimeArgs.flatMap((arg) => ['--runtime-arg', arg]),
    ...(options.logSizeMax > 0 ? ['--log-size-max', String(options.logSizeMax)] : []),
    ...(options.terminal ? ['-t'] : []),
    ...(options.stdin ? ['-i'] : []),
    ...(options.stdin && !options.stdinOnce ? ['--leave-stdin-open'] : []),
    ...(launch.systemdCgroup ? ['-s'] : []),
  ];
  // conmon's create result lands in the sync file: empty it first (it may be a retry's).
  fs.writeFileSync(syncFile, '', { mode: 0o600 });
  const joinCgroups = launch.supervisorCgroupProcs;
  const place = joinCgroups ? undefined : launch.placeSupervisor;
  const startPipe = place ? path.join(paths.persistDir, 'start') : undefined;
  try {
    if (startPipe) {
      fs.rmSync(startPipe, { force: true });
      await runProgram('mkfifo', ['-m', '600', startPipe]);
    }
    const gate = startPipe && place ? new StartGate(startPipe, place) : undefined;
    const outcome = await launchProgram({
      // Forked by the launcher shell, not by the daemon (see program-launcher.ts). Its background
      // jobs ignore SIGINT and SIGQUIT, and conmon would hand that on to runc and the container:
      // env restores the default first.
      file: 'env',
      args: ['--default-signal=INT,QUIT', CONMON, ...args],
      cwd: paths.bundle,
      env: { ...process.env, _OCI_SYNCPIPE: '3', ...(startPipe ? { _OCI_STARTPIPE: '4' } : {}) },
      stdoutPath: logFile,
      appendStdout: true,
      stderrToStdout: true,
      // fd 4 is conmon's start pipe: the shell's open of it waits until the gate opens, so conmon
      // does nothing before the cgroup driver has placed it.
      extraRedirections: [{ fd: 3, op: '<>', path: syncFile }, ...(startPipe ? [{ fd: 4, op: '<' as const, path: startPipe }] : [])],
      ...(joinCgroups ? { joinCgroups } : {}),
      timeoutMs: CREATE_TIMEOUT_MS,
      maxOutputBytes: 0,
      ...(gate ? { onPid: (pid: number) => gate.open(pid) } : {}),
    });
    await gate?.closed();
    // conmon's first process exits once its supervisor has forked away (0), or on a failure.
    if (outcome.timedOut) throw new Error(`conmon did not start within ${CREATE_TIMEOUT_MS} ms: ${readTail(logFile)}`);
    if (outcome.status !== 0) throw new Error(`conmon exited with status ${outcome.status}: ${readTail(logFile)}`);
  } catch (error) {
    throw new Error(`conmon could not be started for container ${id}: ${describeError(error)}`, { cause: error });
  } finally {
    if (startPipe) fs.rmSync(startPipe, { force: true });
  }
  try {
    return await awaitCreateResult(id, syncFile, logFile);
  } catch (error) {
    // A conmon that never reported (or reported a failure) must not live on without an owner;
    // the caller's undo deletes whatever runtime state it made.
    killConmon(paths.persistDir);
    throw error;
  }
}

/**
 * conmon's start pipe: once the launcher reports conmon's pid, the cgroup driver places it, then
 * one byte is written to the FIFO. The FIFO is opened read-write, which never blocks, and kept
 * open until conmon's first process has exited, so the byte cannot be lost to a reader that
 * opens late. A placement that fails kills conmon before it has done anything.
 */
class StartGate {
  private work: Promise<void> = Promise.resolve();
  private handle: fs.promises.FileHandle | undefined;

  constructor(
    private readonly fifo: string,
    private readonly place: (pid: number) => Promise<void>,
  ) {}

  open(pid: number): void {
    this.work = (async () => {
      try {
        await this.place(pid);
      } catch (error) {
        process.kill(pid, 'SIGKILL');
        throw new Error(`conmon could not be placed in its own cgroup: ${describeError(error)}`, { cause: error });
      }
      this.handle = await fs.promises.open(this.fifo, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
      await this.handle.write(Buffer.from([0]));
    })();
    this.work.catch(() => undefined); // reported by closed()
  }

  /** After conmon's first process has exited: closes the FIFO, and reports a failed placement. */
  async closed(): Promise<void> {
    try {
      await this.work;
    } finally {
      await this.handle?.close();
    }
  }
}

/** SIGKILLs the conmon whose pid file is in `persistDir`, if it still runs. */
export function killConmon(persistDir: string): void {
  try {
    const pid = Number(fs.readFileSync(path.join(persistDir, 'conmon.pid'), 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'conmon') process.kill(pid, 'SIGKILL');
  } catch {
    // no pid file yet, or conmon is gone already
  }
}

/**
 * Waits for conmon's {"data": pid} (or {"data": -1, "message": …}) line in the sync file. The
 * file is watched (inotify), so the line is read as soon as conmon writes it; a slow poll stays
 * as a backstop for a missed event.
 */
async function awaitCreateResult(id: string, syncFile: string, logFile: string): Promise<{ pid: number }> {
  const result = await new Promise<SyncLine | undefined>((resolve, reject) => {
    const watcher = fs.watch(syncFile);
    const backstop = setInterval(check, SYNC_BACKSTOP_POLL_MS);
    const deadline = setTimeout(() => settle(() => resolve(undefined)), CREATE_TIMEOUT_MS);
    function settle(answer: () => void): void {
      clearInterval(backstop);
      clearTimeout(deadline);
      watcher.close();
      answer();
    }
    function check(): void {
      try {
        const line = readSyncLine(syncFile);
        if (line) settle(() => resolve(line));
      } catch (error) {
        settle(() => reject(error));
      }
    }
    watcher.on('change', check);
    watcher.on('error', () => undefined); // the backstop poll goes on
    check();
  });
  if (!result) throw new Error(`conmon did not report container ${id} created within ${CREATE_TIMEOUT_MS} ms: ${readTail(logFile)}`);
  if (typeof result.data === 'number' && result.data > 0) return { pid: result.data };
  throw new Error(`runtime failed to create container ${id}: ${(result.message ?? '').trim() || readTail(logFile) || 'no reason given'}`);
}

interface SyncLine {
  readonly data?: number;
  readonly message?: string;
}

/** conmon's first JSON line, once it is whole (a line cut short by a read mid-write is not). */
function readSyncLine(syncFile: string): SyncLine | undefined {
  const text = fs.readFileSync(syncFile, 'utf8');
  const end = text.indexOf('\n');
  const line = (end < 0 ? text : text.slice(0, end)).trim();
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as SyncLine;
  } catch (error) {
    if (end < 0) return undefined;
    throw new Error(`conmon wrote an unreadable create result ${JSON.stringify(line)}: ${describeError(error)}`, { cause: error });
  }
}

function readTail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-5).join(' | ');
  } catch {
    return '';
  }
}

/**
 * conmon's attach socket and control FIFO: with --full-attach both sit in the bundle (the socket
 * is not under --socket-dir-path then; a client reaches its long path through /proc/self/fd).
 */
export function conmonAttachEndpoints(bundle: string): ConmonAttachEndpoints {
  return { socket: path.join(bundle, 'attach'), controlFifo: path.join(bundle, 'ctl') };
}

/** Asks conmon to reopen the log file: message type 2 on its control FIFO in the bundle. */
export async function reopenConmonLog(bundle: string): Promise<void> {
  const fifo = conmonAttachEndpoints(bundle).controlFifo;
  const handle = await fs.promises.open(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  try {
    await handle.write('2 0 0\n');
  } finally {
    await handle.close();
  }
}
