// The core event bus: services publish lifecycle facts (a container created, started, stopped,
// deleted; the same for sandboxes, under the sandbox's ID); plugins such as pod-events listen.
// Delivery is synchronous and in publish order, so a listener sees each container's events in
// the order they happened; a listener that throws is logged and does not stop the others.
//
// Start-up backlog: recovery publishes while plugins are still starting (the exit tracker folds
// in exits that happened while the daemon was down during the pods plugin's init), before a
// plugin that inits later (pod-events) has subscribed. So the bus keeps every event published
// until the daemon calls endStartup(), and replays them, in order, to each listener that
// subscribes meanwhile: a listener sees the same facts whatever its place in the init order.
// After start-up the backlog is dropped, so it costs nothing at run time; it is bounded in case
// a start-up publishes without end (the oldest go first, and the loss is reported).

import type { EventBus as EventBusContract, LifecycleEvent, LifecycleListener } from '../tokens';

export type { LifecycleEvent, LifecycleEventType, LifecycleListener } from '../tokens';

/** The most events kept for listeners that subscribe during start-up. */
export const STARTUP_BACKLOG_LIMIT = 10_000;

export class EventBus implements EventBusContract {
  private readonly listeners = new Set<LifecycleListener>();
  /** Events published during start-up; undefined once start-up has ended. */
  private backlog: LifecycleEvent[] | undefined = [];
  private droppedAtStartup = 0;

  constructor(
    private readonly onListenerError: (error: unknown) => void = () => undefined,
    private readonly backlogLimit = STARTUP_BACKLOG_LIMIT,
  ) {}

  publish(event: LifecycleEvent): void {
    if (this.backlog) {
      this.backlog.push(event);
      if (this.backlog.length > this.backlogLimit) {
        this.backlog.shift();
        this.droppedAtStartup += 1;
      }
    }
    for (const listener of [...this.listeners]) this.deliver(listener, event);
  }

  /** Returns the function that unsubscribes. During start-up, first replays what was published. */
  subscribe(listener: LifecycleListener): () => void {
    // By index, not over a copy: an event published while replaying (by this very listener) is
    // appended to the backlog and must reach this listener too, which is not yet subscribed.
    for (let i = 0; this.backlog && i < this.backlog.length; i += 1) this.deliver(listener, this.backlog[i] as LifecycleEvent);
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Ends start-up (the daemon calls it once every plugin has started): the backlog is freed and
   * later subscribers get only what is published after they subscribe. Answers how many start-up
   * events were dropped because the backlog was full (0 normally), for the daemon to report.
   */
  endStartup(): number {
    this.backlog = undefined;
    return this.droppedAtStartup;
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  private deliver(listener: LifecycleListener, event: LifecycleEvent): void {
    try {
      listener(event);
    } catch (error) {
      this.onListenerError(error);
    }
  }
}
