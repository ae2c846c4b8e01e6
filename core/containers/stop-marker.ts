import type { MetadataStore } from '../tokens';
import type { ContainerRecord } from './container-record';

/**
 * Drops the `stopping` mark of a container whose stop is done (its exit folded in), so recovery
 * at the next start-up sees only stops a killed daemon left unfinished. True when it dropped one.
 */
export function clearStopMarker(store: MetadataStore, id: string): boolean {
  const record = store.getContainer<ContainerRecord>(id);
  if (!record?.stopping || record.state === 'CONTAINER_RUNNING') return false;
  const { stopping: _done, ...rest } = record;
  store.putContainer(id, record.sandboxId, rest);
  return true;
}
