import { forEachId, REMOVE_TIMEOUT_MS } from '../command-helpers';
import type { CriClient } from '../cri-client';

export interface RmpOptions {
  readonly force?: boolean;
  readonly all?: boolean;
}

/**
 * `caisson rmp [-f] POD…` or `rmp -a`: RemovePodSandbox for each. Like crictl, a ready pod is
 * removed only with -f (which stops it first); an unknown ID is an error, not a silent success.
 */
export async function rmpCommand(client: CriClient, podIds: readonly string[], options: RmpOptions): Promise<void> {
  let ids = podIds;
  if (options.all) {
    if (podIds.length > 0) throw new Error('rmp takes pod IDs or --all, not both');
    ids = ((await client.call('ListPodSandbox', {})).items ?? []).map((pod) => String(pod.id));
  } else if (ids.length === 0) {
    throw new Error('rmp needs at least one pod ID (or --all)');
  }
  await forEachId(ids, async (id) => {
    const { status } = await client.call('PodSandboxStatus', { pod_sandbox_id: id });
    if (status?.state === 'SANDBOX_READY') {
      if (!options.force) throw new Error(`pod sandbox ${id} is running, please stop it first (or use -f)`);
      await client.call('StopPodSandbox', { pod_sandbox_id: status.id }, { timeoutMs: REMOVE_TIMEOUT_MS });
    }
    await client.call('RemovePodSandbox', { pod_sandbox_id: status?.id ?? id }, { timeoutMs: REMOVE_TIMEOUT_MS });
    process.stdout.write(`Removed sandbox ${id}\n`);
  });
}
