import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { launchLine, parseReport, isShellVariableName, type LauncherReport, type Redirection } from './launch-script';

// Why a launcher: Node's `spawn` forks the whole daemon and blocks its one thread until the
// child has exec'd, 3 to 5 ms per program on the VMs we measured, whatever the program. A pod
// start and stop run about eight programs, so with many pods at once the daemon's thread was
// mostly busy forking (bench/README.md). Instead, one small shell (dash on Debian, about 1 MiB)
// is started once and forks the programs: the daemon writes one line per program and reads two
// short reports back, and its thread is blocked for well under a millisecond.
//
// What a program sees differs from a direct spawn in two ways, both harmless for the short-lived
// host tools that go through here: its stdin, stdout and stderr are files (not pipes), and, as
// for any background job of a shell without job control, SIGINT and SIGQUIT are ignored.

export interface LaunchRequest {
  readonly file: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly input?: string | Buffer;
  /** Where the program's stdout goes; by default a scratch file read back (up to the cap). */
  readonly stdoutPath?: string;
  /** Append to stdoutPath rather than truncate it. */
  readonly appendStdout?: boolean;
  /** Send stderr where stdout goes (then `stderr` answers ''). */
  readonly stderrToStdout?: boolean;
  /** cgroup.procs files the program joins before it is exec'd (its children are born there). */
  readonly joinCgroups?: readonly string[];
  /** Further descriptors (3 to 9) opened for the program, after 0, 1 and 2. */
  readonly extraRedirections?: readonly Redirection[];
  /**
   * Called with the program's pid as soon as it is forked. The redirections are opened before
   * the program is exec'd, so one that blocks (a FIFO no one writes yet) holds it there.
   */
  readonly onPid?: (pid: number) => void;
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
}

export interface LaunchOutcome {
  /** The shell's exit status of the program: 128 + n when signal n ended it. */
  readonly status: number;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

interface Pending {
  readonly resolve: (status: number) => void;
  readonly reject: (error: Error) => void;
  /** The shell that runs it: only that shell's going away can lose its report. */
  readonly shell: ChildProcessWithoutNullStreams;
  readonly onPid?: (pid: number) => void;
  pid?: number;
  killWhenKnown?: boolean;
}

const SHELL = '/bin/sh';
/** Looked up once: canLaunch is asked before every program. */
const SHELL_EXISTS = fs.existsSync(SHELL);
const SCRATCH_PARENT = fs.existsSync('/dev/shm') ? '/dev/shm' : '/tmp';
const SCRATCH_PREFIX = 'caisson-launcher-';
/** After the time limit, how long a program not yet reported as started may still report. */
const NEVER_STARTED_GRACE_MS = 1_000;

export class ProgramLauncher {
  private shell?: ChildProcessWithoutNullStreams;
  /** The environment the shell started with; each program's is given as a difference. */
  private shellEnv: NodeJS.ProcessEnv = {};
  private scratch?: string;
  private nextTag = 1;
  private readonly pending = new Map<number, Pending>();

  /**
   * True when the shell can give the program this environment: every variable it must set or
   * remove (relative to its own) has a name a shell can write.
   */
  canLaunch(env: NodeJS.ProcessEnv): boolean {
    const { setEnv, unsetEnv } = environmentDifference(this.shell ? this.shellEnv : process.env, env);
    return SHELL_EXISTS && [...Object.keys(setEnv), ...unsetEnv].every(isShellVariableName);
  }

  /** The launcher shell's pid while it runs (for tests and diagnostics). */
  shellPid(): number | undefined {
    return this.shell?.pid;
  }

  async run(request: LaunchRequest): Promise<LaunchOutcome> {
    const scratch = this.ensureScratch();
    const tag = this.nextTag++;
    const stdinPath = request.input === undefined ? '/dev/null' : path.join(scratch, `${tag}.in`);
    const stdoutPath = request.stdoutPath ?? path.join(scratch, `${tag}.out`);
    const stderrPath = path.join(scratch, `${tag}.err`);
    try {
      if (request.input !== undefined) await fs.promises.writeFile(stdinPath, request.input, { mode: 0o600 });
      // Taken after the last await before the write, so the line goes to the shell that runs now.
      const shell = this.ensureShell();
      const { setEnv, unsetEnv } = environmentDifference(this.shellEnv, request.env);
      const redirections: Redirection[] = [
        { fd: 0, op: '<', path: stdinPath },
        { fd: 1, op: request.appendStdout ? '>>' : '>', path: stdoutPath },
        request.stderrToStdout ? { fd: 2, op: '>&', toFd: 1 } : { fd: 2, op: '>', path: stderrPath },
        ...(request.extraRedirections ?? []),
      ];
      const line = launchLine({ tag, file: request.file, args: request.args, setEnv, unsetEnv, cwd: request.cwd, joinCgroups: request.joinCgroups, redirections });
      let timedOut = false;
      const finished = new Promise<number>((resolve, reject) => this.pending.set(tag, { resolve, reject, shell, onPid: request.onPid }));
      const timer = setTimeout(() => {
        timedOut = true;
        this.kill(tag);
      }, request.timeoutMs);
      // `jobs` makes the shell collect the background groups that have ended (dash keeps them
      // as zombies until it is asked).
      shell.stdin.write(`jobs >/dev/null; ${line}`);
      let status: number;
      try {
        status = await finished;
      } finally {
        clearTimeout(timer);
        this.pending.delete(tag);
      }
      shell.stdin.write('jobs >/dev/null\n');
      const [stdout, stderr] = await Promise.all([
        request.stdoutPath === undefined ? readCapped(stdoutPath, request.maxOutputBytes) : Promise.resolve(''),
        request.stderrToStdout ? Promise.resolve('') : readCapped(stderrPath, request.maxOutputBytes),
      ]);
      return { status, timedOut, stdout, stderr };
    } finally {
      const made = [stderrPath, ...(request.stdoutPath === undefined ? [stdoutPath] : []), ...(request.input === undefined ? [] : [stdinPath])];
      await Promise.all(made.map((file) => fs.promises.rm(file, { force: true })));
    }
  }

  /**
   * The time limit: a program that runs is killed (its exit then answers); one never reported
   * as started (its shell died before forking it) is given up on, since nothing would answer.
   */
  private kill(tag: number): void {
    const entry = this.pending.get(tag);
    if (!entry) return;
    if (entry.pid !== undefined) {
      signalQuietly(entry.pid);
      return;
    }
    entry.killWhenKnown = true;
    setTimeout(() => entry.reject(new Error('the launcher shell never started it')), NEVER_STARTED_GRACE_MS).unref();
  }

  private ensureShell(): ChildProcessWithoutNullStreams {
    if (this.shell) return this.shell;
    this.shellEnv = { ...process.env };
    const shell = spawn(SHELL, [], { stdio: ['pipe', 'pipe', 'pipe'], env: this.shellEnv });
    this.shell = shell;
    let partial = '';
    shell.stdout.setEncoding('utf8');
    shell.stdout.on('data', (chunk: string) => {
      partial += chunk;
      let end: number;
      while ((end = partial.indexOf('\n')) >= 0) {
        const report = parseReport(partial.slice(0, end));
        partial = partial.slice(end + 1);
        if (report) this.onReport(report);
      }
    });
    // The reports come from the background groups, which hold the pipe open after the shell
    // itself has gone; once the last writer is gone, no program still pending will report.
    shell.stdout.on('close', () => this.failPending(shell, new Error(`the program launcher (${SHELL}) exited`)));
    shell.stderr.resume();
    shell.stdin.on('error', () => undefined); // the 'exit' below starts a new shell next time
    shell.on('error', () => undefined);
    shell.on('exit', () => {
      if (this.shell === shell) this.shell = undefined;
    });
    // The shell must not keep a daemon (or a test run) alive: pending programs hold timers.
    shell.unref();
    for (const stream of [shell.stdin, shell.stdout, shell.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
    return shell;
  }

  private onReport(report: LauncherReport): void {
    const entry = this.pending.get(report.tag);
    if (!entry) return;
    if (report.kind === 'exit') {
      entry.resolve(report.value);
      return;
    }
    entry.pid = report.value;
    if (entry.killWhenKnown) signalQuietly(entry.pid);
    else entry.onPid?.(entry.pid);
  }

  private failPending(shell: ChildProcessWithoutNullStreams, error: Error): void {
    for (const entry of this.pending.values()) if (entry.shell === shell) entry.reject(error);
  }

  private ensureScratch(): string {
    if (this.scratch && fs.existsSync(this.scratch)) return this.scratch;
    removeStaleScratch();
    const scratch = fs.mkdtempSync(path.join(SCRATCH_PARENT, `${SCRATCH_PREFIX}${process.pid}-`));
    this.scratch = scratch;
    process.once('exit', () => fs.rmSync(scratch, { recursive: true, force: true }));
    return scratch;
  }
}

/** The one launcher of this process (like libuv's spawn, it is shared by every daemon in it). */
export const sharedLauncher = new ProgramLauncher();

/**
 * Runs one program through the shared launcher, for callers that need more than runProgram
 * (descriptors of their own, the pid before the program runs). The outcome reports any exit
 * status; only a launcher that cannot run it at all rejects.
 */
export function launchProgram(request: LaunchRequest): Promise<LaunchOutcome> {
  if (!sharedLauncher.canLaunch(request.env)) return Promise.reject(new Error(`${request.file}: its environment names a variable no shell can set`));
  return sharedLauncher.run(request);
}

function environmentDifference(base: NodeJS.ProcessEnv, wanted: NodeJS.ProcessEnv): { setEnv: Record<string, string>; unsetEnv: string[] } {
  const setEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries(wanted)) {
    if (value !== undefined && base[name] !== value) setEnv[name] = value;
  }
  const unsetEnv = Object.keys(base).filter((name) => wanted[name] === undefined);
  return { setEnv, unsetEnv };
}

async function readCapped(file: string, cap: number): Promise<string> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch {
    return '';
  }
  try {
    const size = Math.min((await handle.stat()).size, cap);
    const buffer = Buffer.alloc(size);
    const { bytesRead } = await handle.read(buffer, 0, size, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

function signalQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // it has ended already
  }
}

/** Removes the scratch folders of launchers whose process is gone (a daemon killed by SIGKILL). */
function removeStaleScratch(): void {
  let names: string[];
  try {
    names = fs.readdirSync(SCRATCH_PARENT).filter((name) => name.startsWith(SCRATCH_PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.slice(SCRATCH_PREFIX.length).split('-')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || fs.existsSync(`/proc/${pid}`)) continue;
    fs.rmSync(path.join(SCRATCH_PARENT, name), { recursive: true, force: true });
  }
}
