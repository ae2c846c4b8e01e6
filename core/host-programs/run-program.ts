import { spawn } from 'node:child_process';
import { ProgramError } from '../errors';
import { CappedBuffer } from './capped-buffer';

// The one way Caisson runs a helper program (runc, conmon, mount, CNI plugins, …): bounded in
// time, stdout and stderr captured (up to a cap, so a chatty program cannot grow the daemon),
// and any failure turned into a ProgramError that quotes what the program said.

export interface RunProgramOptions {
  /** Kill the program (SIGKILL) after this long. */
  readonly timeoutMs?: number;
  readonly input?: string | Buffer;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Most bytes kept of each of stdout and stderr; the rest is dropped. */
  readonly maxOutputBytes?: number;
  /** An open file descriptor to give the program as its stdout (then `stdout` answers ''). */
  readonly stdoutFd?: number;
}

export interface ProgramResult {
  readonly stdout: string;
  readonly stderr: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_OUTPUT = 1024 * 1024;

export function runProgram(file: string, args: readonly string[], options: RunProgramOptions = {}): Promise<ProgramResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxOutput = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['pipe', options.stdoutFd ?? 'pipe', 'pipe'],
    });
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
  });
}
