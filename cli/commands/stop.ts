import { forEachId } from '../command-helpers';
import type { CriClient } from '../cri-client';

export const DEFAULT_STOP_TIMEOUT_SECONDS = 10;

/** A `--timeout` in whole seconds (0: SIGKILL at once). */
export function parseStopTimeout(value: string): number {
  const seconds = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(seconds)) throw new Error(`--timeout must be a whole number of seconds, not "${value}"`);
  return seconds;
}

/** StopContainer, waiting long enough for the stop signal, SIGKILL and the daemon's own wait. */
export async function stopContainer(client: CriClient, id: string, timeoutSeconds: number): Promise<void> {
  await client.call('StopContainer', { container_id: id, timeout: timeoutSeconds }, { timeoutMs: (timeoutSeconds + 60) * 1000 });
}

/** `caisson stop [-t SECONDS] CONTAINER…`: StopContainer for each; prints each ID. */
export async function stopCommand(client: CriClient, containerIds: readonly string[], timeoutSeconds = DEFAULT_STOP_TIMEOUT_SECONDS): Promise<void> {
  if (containerIds.length === 0) throw new Error('stop needs at least one container ID');
  await forEachId(containerIds, async (id) => {
    await stopContainer(client, id, timeoutSeconds);
    process.stdout.write(`${id}\n`);
  });
}
