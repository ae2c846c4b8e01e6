import type { RemoteOutcome } from './channel-frames';
import { enterRawMode, terminalSizeOf, type TerminalSizeSource } from './raw-terminal';
import { runRemoteCommand } from './remote-command-client';

// `exec -i/-t` and `attach` on this process's own stdio: with -t on a terminal, raw mode for the
// session's length and the terminal's size sent to the server; stdin is read only with -i.

export interface TerminalSessionOptions {
  readonly stdin: boolean;
  readonly tty: boolean;
  readonly timeoutMs?: number;
}

/** Runs the session at `url` on process.stdin/stdout/stderr; resolves with how it ended. */
export async function runOnThisTerminal(url: string, what: string, options: TerminalSessionOptions): Promise<RemoteOutcome> {
  const rawTerminal = options.tty && options.stdin && process.stdin.isTTY;
  const restore = rawTerminal ? enterRawMode(process.stdin) : () => undefined;
  try {
    return await runRemoteCommand(url, what, {
      ...(options.stdin ? { stdin: process.stdin } : {}),
      stdout: process.stdout,
      stderr: process.stderr,
      ...(options.tty ? sizeSource() : {}),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });
  } finally {
    restore();
  }
}

function sizeSource(): { terminal?: TerminalSizeSource } {
  // The size of the terminal the output lands on (a TTY stdout emits `resize` on SIGWINCH).
  const terminal = terminalSizeOf(process.stdout);
  return terminal ? { terminal } : {};
}

/**
 * Turns the outcome into the process's exit: the remote exit code, or for a failure that is not
 * one, an error main prints as `caisson: …` (exit 1).
 */
export function exitWith(outcome: RemoteOutcome): void {
  if (outcome.message !== undefined) throw new Error(outcome.message);
  process.exitCode = outcome.exitCode;
}
