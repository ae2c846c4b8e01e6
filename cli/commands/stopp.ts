import { forEachId, REMOVE_TIMEOUT_MS } from '../command-helpers';
import type { CriClient } from '../cri-client';

/** `caisson stopp POD…`: StopPodSandbox for each (its containers are stopped too). */
export async function stoppCommand(client: CriClient, podIds: readonly string[]): Promise<void> {
  if (podIds.length === 0) throw new Error('stopp needs at least one pod ID');
  await forEachId(podIds, async (id) => {
    await client.call('StopPodSandbox', { pod_sandbox_id: id }, { timeoutMs: REMOVE_TIMEOUT_MS });
    process.stdout.write(`Stopped sandbox ${id}\n`);
  });
}
