import { nowNanos } from '../clock/unix-nanos';
import type { LifecycleEventType } from '../tokens';
import type { EventBus } from '../tokens';
import type { ContainerRecord } from './container-record';

/** Tells the event bus a container changed state, stamped now (the moment of the change as the daemon saw it). */
export function publishContainerEvent(events: EventBus, type: LifecycleEventType, record: ContainerRecord): void {
  events.publish({ type, containerId: record.id, sandboxId: record.sandboxId, createdAtNanos: nowNanos() });
}
