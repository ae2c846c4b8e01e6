import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { constants } from 'node:os';
import { ProgramError } from '../errors';
import { CappedBuffer } from './capped-buffer';
import { sharedLauncher } from './program-launcher';

// The one way Caisson runs a helper program (runc, mount, CNI plugins, …): bounded in time,
// stdout and stderr captured (up to a cap, so a chatty program cannot grow the daemon), and any
// failure turned into a ProgramError that quotes what the program said. Programs go through the
// launcher shell (program-launcher.ts), which keeps the fork off the daemon's thread; a direct
// spawn remains for what the shell cannot express (a descriptor to inherit, an odd variable name).

export interface RunProgramOptions {
  /** Kill the program (SIGKILL) after this long. */
  readonly timeoutMs?: number;
  readonly input?: string | Buffer;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Most bytes kept of each of stdout and stderr; the rest is dropped. */
  readonly maxOutputBytes?: number;
  /** A file to write the program's stdout to (then `stdout` answers ''). */
  readonly stdoutPath?: string;
}

export interface ProgramResult {
  readonly stdout: string;
  readonly stderr: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_OUTPUT = 1024 * 1024;
/** What dash says, on the program's stderr, when `exec` finds no such program. */
const NOT_FOUND = /exec: .*: not found\s*$/;
const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, number]) => [number, name]));

export async function runProgram(file: string, args: readonly string[], options: RunProgramOptions = {}): Promise<ProgramResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  const env = options.env ?? process.env;
  if (!sharedLauncher.canLaunch(env)) return spawnDirectly(file, args, options, timeoutMs, maxOutputBytes);
  let outcome;
  try {
    outcome = await sharedLauncher.run({ file, args, env, cwd: options.cwd, input: options.input, stdoutPath: options.stdoutPath, timeoutMs, maxOutputBytes });
  } catch (error) {
    throw new ProgramError(file, args, null, '', `failed to start: ${error instanceof Error ? error.message : String(error)}`);
  }
  const { status, stdout, stderr } = outcome;
  if (outcome.timedOut) throw new ProgramError(file, args, null, stderr, `timed out after ${timeoutMs} ms and was killed`);
  if (status === 127 && NOT_FOUND.test(stderr)) throw new ProgramError(file, args, null, '', 'failed: program not found');
  const signal = status > 128 ? SIGNAL_NAMES.get(status - 128) : undefined;
  if (signal) throw new ProgramError(file, args, null, stderr, `was killed by ${signal}`);
  if (status !== 0) throw new ProgramError(file, args, status, stderr, `exited with status ${status}`);
  return { stdout, stderr };
}

/** Node's own spawn: the program is the daemon's child, with pipes for its output. */
function spawnDirectly(file: string, args: readonly string[], options: RunProgramOptions, timeoutMs: number, maxOutput: number): Promise<ProgramResult> {
  const stdoutFd = options.stdoutPath === undefined ? undefined : fs.openSync(options.stdoutPath, 'w', 0o600);
  return new Promise<ProgramResult>((resolve, reject) => {
    const child = spawn(file, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['pipe', stdoutFd ?? 'pipe', 'pipe'] });
    const stdout = new CappedBuffer(maxOutput);
    const stderr = new CappedBuffer(maxOutput);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const reason = error.code === 'ENOENT' ? 'failed: program not found' : `failed to start: ${error.message}`;
      reject(new ProgramError(file, args, null, '', reason));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { stdout: stdout.text(), stderr: stderr.text() };
      if (timedOut) reject(new ProgramError(file, args, null, result.stderr, `timed out after ${timeoutMs} ms and was killed`));
      else if (signal) reject(new ProgramError(file, args, null, result.stderr, `was killed by ${signal}`));
      else if (code !== 0) reject(new ProgramError(file, args, code, result.stderr, `exited with status ${code}`));
      else resolve(result);
    });
    child.stdin?.on('error', () => {
      // The program may exit without reading its input; its exit status tells the story.
    });
    child.stdin?.end(options.input);
  }).finally(() => {
    if (stdoutFd !== undefined) fs.closeSync(stdoutFd);
  });
}
