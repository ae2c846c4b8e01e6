import type { CriClient } from '../cri-client';

/** How much longer than the command's own timeout the client waits for the daemon's answer. */
const ANSWER_MARGIN_MS = 30_000;

export interface ExecOptions {
  /** Seconds after which the daemon kills the command (0: none). */
  readonly timeout: number;
}

/** An exec `--timeout` in whole seconds (0: none). */
export function parseExecTimeout(value: string): number {
  const seconds = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(seconds)) throw new Error(`--timeout must be a whole number of seconds, not "${value}"`);
  return seconds;
}

/**
 * `caisson exec [--timeout SECONDS] CONTAINER [--] CMD...`: ExecSync; prints the command's stdout
 * to stdout and its stderr to stderr, and exits with its exit code.
 */
export async function execCommand(client: CriClient, containerId: string, cmd: readonly string[], options: ExecOptions): Promise<void> {
  const command = cmd[0] === '--' ? cmd.slice(1) : cmd;
  if (command.length === 0) throw new Error('exec needs a command after the container: caisson exec CONTAINER -- CMD...');
  // The client waits a little longer than the daemon's own timeout, which answers first.
  const timeoutMs = options.timeout > 0 ? options.timeout * 1000 + ANSWER_MARGIN_MS : 24 * 3600 * 1000;
  const response = await client.call('ExecSync', { container_id: containerId, cmd: [...command], timeout: options.timeout }, { timeoutMs });
  await write(process.stdout, response.stdout);
  await write(process.stderr, response.stderr);
  process.exitCode = response.exit_code ?? 0;
}

function write(stream: NodeJS.WriteStream, data: Buffer | Uint8Array | string | undefined): Promise<void> {
  if (data === undefined) return Promise.resolve();
  if (data.length === 0) return Promise.resolve();
  return new Promise((resolve, reject) => stream.write(data, (error) => (error ? reject(error) : resolve())));
}
