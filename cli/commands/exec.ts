import type { CriClient } from '../cri-client';
import { exitWith, runOnThisTerminal } from '../streaming/terminal-session';

/** How much longer than the command's own timeout the client waits for the daemon's answer. */
const ANSWER_MARGIN_MS = 30_000;

export interface ExecOptions {
  /** Seconds after which the command is ended (0: none). */
  readonly timeout: number;
  /** -i: pass this process's stdin to the command (streaming Exec). */
  readonly interactive?: boolean;
  /** -t: run the command on a terminal (streaming Exec). */
  readonly tty?: boolean;
  /** -s: ExecSync even with -i or -t. */
  readonly sync?: boolean;
}

/** An exec `--timeout` in whole seconds (0: none). */
export function parseExecTimeout(value: string): number {
  const seconds = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(seconds)) throw new Error(`--timeout must be a whole number of seconds, not "${value}"`);
  return seconds;
}

/**
 * `caisson exec [-i] [-t] [-s] [--timeout SECONDS] CONTAINER [--] CMD...`, as crictl: without -i
 * or -t (or with -s) it is ExecSync, printing the command's stdout and stderr once it ends; with
 * -i or -t it is the streaming Exec, connected as it runs (a terminal in raw mode with -t). Either
 * way the client exits with the command's exit code.
 */
export async function execCommand(client: CriClient, containerId: string, cmd: readonly string[], options: ExecOptions): Promise<void> {
  const command = cmd[0] === '--' ? cmd.slice(1) : cmd;
  if (command.length === 0) throw new Error('exec needs a command after the container: caisson exec CONTAINER -- CMD...');
  const streaming = (options.interactive === true || options.tty === true) && options.sync !== true;
  if (streaming) return execStreaming(client, containerId, command, options);
  // The client waits a little longer than the daemon's own timeout, which answers first.
  const timeoutMs = options.timeout > 0 ? options.timeout * 1000 + ANSWER_MARGIN_MS : 24 * 3600 * 1000;
  const response = await client.call('ExecSync', { container_id: containerId, cmd: [...command], timeout: options.timeout }, { timeoutMs });
  await write(process.stdout, response.stdout);
  await write(process.stderr, response.stderr);
  process.exitCode = response.exit_code ?? 0;
}

/** Exec, then the session on its URL; a terminal merges stderr into stdout, so -t asks for no stderr (crictl does the same). */
async function execStreaming(client: CriClient, containerId: string, command: readonly string[], options: ExecOptions): Promise<void> {
  const stdin = options.interactive === true;
  const tty = options.tty === true;
  const { url } = await client.call('Exec', { container_id: containerId, cmd: [...command], stdin, stdout: true, stderr: !tty, tty });
  const outcome = await runOnThisTerminal(String(url), `exec session in container ${containerId}`, { stdin, tty, timeoutMs: options.timeout * 1000 });
  exitWith(outcome);
}

function write(stream: NodeJS.WriteStream, data: Buffer | Uint8Array | string | undefined): Promise<void> {
  if (data === undefined) return Promise.resolve();
  if (data.length === 0) return Promise.resolve();
  return new Promise((resolve, reject) => stream.write(data, (error) => (error ? reject(error) : resolve())));
}
