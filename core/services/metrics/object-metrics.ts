import { Counter, Gauge, type Registry } from 'prom-client';
import type { ContainerService, ImageService, PodEventsStats, SandboxService } from '../../tokens';

// What the daemon holds, counted at scrape time: pods and containers by state, images, the bytes
// of images pulled, and the pod events plugin's streams (when it runs).

export interface ObjectSources {
  readonly sandboxes: SandboxService;
  readonly containers: ContainerService;
  readonly images: ImageService;
  /** Undefined when events.pod-events is off. */
  readonly podEvents: () => PodEventsStats | undefined;
}

const SANDBOX_STATES = ['SANDBOX_READY', 'SANDBOX_NOTREADY'];
const CONTAINER_STATES = ['CONTAINER_CREATED', 'CONTAINER_RUNNING', 'CONTAINER_EXITED', 'CONTAINER_UNKNOWN'];

/** Objects counted by state at scrape time; every known state is present, 0 when none is in it. */
function stateGauge(registry: Registry, name: string, help: string, states: readonly string[], list: () => readonly { state: string }[]): void {
  new Gauge({
    name,
    help,
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const state of states) this.set({ state }, 0);
      for (const item of list()) this.inc({ state: item.state });
    },
  });
}

export function objectMetrics(registry: Registry, sources: ObjectSources): { pulled(imageRef: string): void } {
  stateGauge(registry, 'caisson_pods', 'Pod sandboxes, by state.', SANDBOX_STATES, () => sources.sandboxes.list());
  stateGauge(registry, 'caisson_containers', 'Containers, by state.', CONTAINER_STATES, () => sources.containers.list());
  new Gauge({
    name: 'caisson_images',
    help: 'Images in the store.',
    registers: [registry],
    collect() {
      this.set(sources.images.list().length);
    },
  });
  new Gauge({
    name: 'caisson_event_subscribers',
    help: 'Open GetContainerEvents streams (0 when pod events are off).',
    registers: [registry],
    collect() {
      this.set(sources.podEvents()?.subscribers() ?? 0);
    },
  });
  const counterReadAtScrape = (name: string, help: string, read: (stats: PodEventsStats) => number): void => {
    // A count the events plugin keeps: exposed as a counter, read when scraped.
    registry.registerMetric({
      name,
      help,
      type: 'counter',
      async get() {
        const stats = sources.podEvents();
        return { name, help, type: 'counter', aggregator: 'sum', values: [{ value: stats ? read(stats) : 0, labels: {} }] };
      },
      reset() {
        // The plugin owns the count.
      },
    } as never);
  };
  counterReadAtScrape('caisson_events_published_total', 'Pod lifecycle events sent to GetContainerEvents subscribers.', (stats) => stats.published());
  counterReadAtScrape('caisson_event_overflows_total', 'GetContainerEvents streams ended because their subscriber fell behind (its buffer overflowed).', (stats) => stats.overflows());

  const pulledBytes = new Counter({
    name: 'caisson_image_pulled_bytes_total',
    help: 'Bytes of the images pulled with PullImage (manifest, config and compressed layers), including layers already present.',
    registers: [registry],
  });
  return {
    pulled(imageRef: string) {
      const image = sources.images.find(imageRef);
      if (image) pulledBytes.inc(image.size);
    },
  };
}
