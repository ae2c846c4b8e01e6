import { isNotFound } from '../command-helpers';
import type { CriClient } from '../cri-client';
import { CriLogPrinter } from '../cri-log';
import { followLogFile } from '../log-follower';

export interface LogsOptions {
  readonly follow?: boolean;
  readonly tail?: number;
  readonly timestamps?: boolean;
}

/** A `--tail` count: a whole number, or -1 for every line. */
export function parseTail(value: string): number {
  const count = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || count < -1) throw new Error(`--tail must be a number of lines (or -1 for all), not "${value}"`);
  return count;
}

/**
 * `caisson logs [-f] [--tail N] [--timestamps] CONTAINER`: reads the container's CRI log file
 * (status.log_path; the CLI runs on the daemon's host) and prints each message to the stream it
 * came from. With -f it follows the file, across rotations, until the container has exited and
 * the file is drained, or until SIGINT.
 */
export async function logsCommand(client: CriClient, containerId: string, options: LogsOptions): Promise<void> {
  const { status } = await client.call('ContainerStatus', { container_id: containerId });
  if (!status) throw new Error(`container ${containerId} not found`);
  const logPath = status.log_path ?? '';
  if (logPath === '') throw new Error(`container ${containerId} has no log file (its pod sets no log_directory, or it sets no log_path)`);

  const printer = new CriLogPrinter({
    timestamps: options.timestamps === true,
    write: (stream, text) => (stream === 'stderr' ? process.stderr : process.stdout).write(text),
  });
  const controller = new AbortController();
  const onInterrupt = (): void => controller.abort();
  if (options.follow) process.once('SIGINT', onInterrupt);
  try {
    await followLogFile({
      path: logPath,
      tail: options.tail ?? -1,
      follow: options.follow === true,
      onLine: (line) => printer.line(line),
      signal: controller.signal,
      finished: async () => {
        try {
          const { status: now } = await client.call('ContainerStatus', { container_id: String(status.id) });
          return now?.state === 'CONTAINER_EXITED';
        } catch (error) {
          if (isNotFound(error)) return true; // removed while we followed
          throw error;
        }
      },
    });
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
}
