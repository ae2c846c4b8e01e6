import { forEachId } from '../command-helpers';
import type { CriClient } from '../cri-client';

/** `caisson start CONTAINER…`: StartContainer for each; prints each ID. */
export async function startCommand(client: CriClient, containerIds: readonly string[]): Promise<void> {
  if (containerIds.length === 0) throw new Error('start needs at least one container ID');
  await forEachId(containerIds, async (id) => {
    await client.call('StartContainer', { container_id: id }, { timeoutMs: 2 * 60_000 });
    process.stdout.write(`${id}\n`);
  });
}
