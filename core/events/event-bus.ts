// The core event bus: services publish lifecycle facts (a container created, started, stopped,
// deleted; the same for sandboxes, under the sandbox's ID); plugins such as pod-events listen.
// Delivery is synchronous and in publish order, so a listener sees each container's events in
// the order they happened; a listener that throws is logged and does not stop the others.

export type LifecycleEventType = 'CONTAINER_CREATED_EVENT' | 'CONTAINER_STARTED_EVENT' | 'CONTAINER_STOPPED_EVENT' | 'CONTAINER_DELETED_EVENT';

export interface LifecycleEvent {
  readonly type: LifecycleEventType;
  /** The container's ID, or the sandbox's for a sandbox event. */
  readonly containerId: string;
  readonly sandboxId: string;
  /** Nanoseconds since the epoch. */
  readonly createdAtNanos: bigint;
}

export type LifecycleListener = (event: LifecycleEvent) => void;

export class EventBus {
  private readonly listeners = new Set<LifecycleListener>();

  constructor(private readonly onListenerError: (error: unknown) => void = () => undefined) {}

  publish(event: LifecycleEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }

  /** Returns the function that unsubscribes. */
  subscribe(listener: LifecycleListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  get listenerCount(): number {
    return this.listeners.size;
  }
}

export function nowNanosBigint(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
