// The core event bus: services publish lifecycle facts (a container created, started, stopped,
// deleted; the same for sandboxes, under the sandbox's ID); plugins such as pod-events listen.
// Delivery is synchronous and in publish order, so a listener sees each container's events in
// the order they happened; a listener that throws is logged and does not stop the others.

import type { EventBus as EventBusContract, LifecycleEvent, LifecycleListener } from '../tokens';

export type { LifecycleEvent, LifecycleEventType, LifecycleListener } from '../tokens';

export class EventBus implements EventBusContract {
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
