import type { ContainerEventResponse, GetEventsRequest__Output, StreamingCriHandler } from '../../core/plugin-api';
import type { Subscription } from './event-fanout';

/** What GetContainerEvents needs of the plugin's service (pod-events-service.ts). */
export interface ContainerEventStreams {
  /** Every event built from now on, in order; the subscription closes when `signal` aborts. */
  subscribe(signal: AbortSignal): Subscription<ContainerEventResponse>;
  /** Counts a stream cut off because its client fell behind. */
  countOverflow(): void;
}

/**
 * GetContainerEvents (CRI v1, server streaming): streams every pod lifecycle event until the
 * client cancels, the daemon stops, or the client falls behind (RESOURCE_EXHAUSTED, so that it
 * relists).
 */
export function getContainerEventsHandler(streams: ContainerEventStreams): StreamingCriHandler<GetEventsRequest__Output, ContainerEventResponse> {
  return async (_request, stream, call) => {
    const subscription = streams.subscribe(call.signal);
    try {
      for (;;) {
        const next = await subscription.next();
        if (next.done) return;
        // An overflow while a write waits on a slow client ends the stream at once.
        await Promise.race([stream.write(next.value), subscription.failure]);
      }
    } catch (error) {
      if ((error as { code?: string }).code === 'RESOURCE_EXHAUSTED') streams.countOverflow();
      throw error;
    } finally {
      subscription.close();
    }
  };
}
