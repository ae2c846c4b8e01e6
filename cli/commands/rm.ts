import { forEachId, REMOVE_TIMEOUT_MS } from '../command-helpers';
import type { CriClient } from '../cri-client';
import { stopContainer } from './stop';

export interface RmOptions {
  readonly force?: boolean;
  readonly all?: boolean;
}

/**
 * `caisson rm [-f] CONTAINER…` or `rm -a`: RemoveContainer for each. Like crictl, a running
 * container is removed only with -f (which stops it first, with SIGKILL); an unknown ID is an error.
 */
export async function rmCommand(client: CriClient, containerIds: readonly string[], options: RmOptions): Promise<void> {
  let ids = containerIds;
  if (options.all) {
    if (containerIds.length > 0) throw new Error('rm takes container IDs or --all, not both');
    ids = ((await client.call('ListContainers', {})).containers ?? []).map((container) => String(container.id));
  } else if (ids.length === 0) {
    throw new Error('rm needs at least one container ID (or --all)');
  }
  await forEachId(ids, async (id) => {
    const { status } = await client.call('ContainerStatus', { container_id: id });
    const fullId = status?.id ?? id;
    if (status?.state === 'CONTAINER_RUNNING') {
      if (!options.force) throw new Error(`container ${id} is running, please stop it first (or use -f)`);
      await stopContainer(client, fullId, 0);
    }
    await client.call('RemoveContainer', { container_id: fullId }, { timeoutMs: REMOVE_TIMEOUT_MS });
    process.stdout.write(`${id}\n`);
  });
}
