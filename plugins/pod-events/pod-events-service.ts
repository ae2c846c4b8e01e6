import type { ContainerEventResponse, LifecycleEvent, Logger } from '../../core/plugin-api';
import { PodEventBuilder, type PodStateSource } from './event-builder';
import { EventFanout, type Subscription } from './event-fanout';
import { getContainerEventsHandler, type ContainerEventStreams } from './get-container-events';

// The plugin's working part: one EventBus listener builds each event's message once, at publish
// time, and fans it out to every GetContainerEvents stream (get-container-events.ts) through its
// bounded queue.
//
// The first stream also gets what was published before it (held by the fan-out, at most
// buffer-size): after a restart, the exits folded in at start-up (replayed to this plugin by the
// EventBus's start-up backlog) reach the kubelet that reconnects, which otherwise would never
// hear of a container that stopped while the daemon was down.

export const CONFIG_KEY = 'events.pod-events';

const CHANGE_WORDS = { subscribed: 'opened', closed: 'closed', 'fell-behind': 'cut off (it fell behind)' } as const;

export interface PodEventsOptions {
  readonly bufferSize: number;
  readonly source: PodStateSource;
  readonly logger: Logger;
}

export class PodEventsService implements ContainerEventStreams {
  private readonly builder: PodEventBuilder;
  private readonly fanout: EventFanout<ContainerEventResponse>;
  /** Events published while one is being built (a source that publishes must not reorder them). */
  private readonly pending: LifecycleEvent[] = [];
  private building = false;
  private overflowCount = 0;
  private publishedCount = 0;

  constructor(private readonly options: PodEventsOptions) {
    this.builder = new PodEventBuilder(options.source);
    this.fanout = new EventFanout<ContainerEventResponse>({
      bufferSize: options.bufferSize,
      holdForFirstSubscriber: true,
      overflowHint: `the stream is ended so that the client relists; raise "buffer-size" under plugin-config "${CONFIG_KEY}" in daemon.json (now ${options.bufferSize}) if this client is often this slow`,
      onSubscribersChanged: (count, change) => options.logger.info(`GetContainerEvents stream ${CHANGE_WORDS[change]}; ${count} open`),
    });
  }

  /** Remembers the sandboxes that exist at start, so their DELETED events can carry a status. */
  seed(sandboxes: Parameters<PodEventBuilder['seed']>[0]): void {
    this.builder.seed(sandboxes);
  }

  get subscriberCount(): number {
    return this.fanout.subscriberCount;
  }

  /** Streams ended because their subscriber fell behind (each such client must relist). */
  get overflows(): number {
    return this.overflowCount;
  }

  /** Events sent to the fan-out since start. */
  get published(): number {
    return this.publishedCount;
  }

  /** The EventBus listener. Events are handled strictly in publish order, even when nested. */
  readonly onEvent = (event: LifecycleEvent): void => {
    this.pending.push(event);
    if (this.building) return;
    this.building = true;
    try {
      for (let next = this.pending.shift(); next; next = this.pending.shift()) {
        let message: ContainerEventResponse;
        try {
          message = this.builder.build(next);
        } catch (error) {
          // Never drop silently: say which event could not be described, send it bare.
          this.options.logger.error(`status for ${next.type} of ${next.containerId} could not be read: ${error instanceof Error ? error.message : String(error)}`);
          message = { container_id: next.containerId, container_event_type: next.type, created_at: next.createdAtNanos.toString(), containers_statuses: [] };
        }
        this.fanout.publish(message);
        this.publishedCount += 1;
      }
    } finally {
      this.building = false;
    }
  };

  /** A subscription to every event built from now on (for GetContainerEvents). */
  subscribe(signal: AbortSignal): Subscription<ContainerEventResponse> {
    return this.fanout.subscribe(signal);
  }

  /** Counts a stream cut off because its client fell behind (see `overflows`). */
  countOverflow(): void {
    this.overflowCount += 1;
  }

  /** The GetContainerEvents handler (get-container-events.ts) over this service's streams. */
  readonly handle = getContainerEventsHandler(this);

  /** Ends every open stream (their handlers return). */
  close(): void {
    this.fanout.closeAll();
  }
}
