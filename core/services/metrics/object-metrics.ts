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

export function objectMetrics(registry: Registry, sources: ObjectSources): { pulled(imageRef: string): void } {
  new Gauge({
    name: 'caisson_pods',
    help: 'Pod sandboxes, by state.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const state of SANDBOX_STATES) this.set({ state }, 0);
      for (const sandbox of sources.sandboxes.list()) this.inc({ state: sandbox.state });
    },
  });
  new Gauge({
    name: 'caisson_containers',
    help: 'Containers, by state.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const state of CONTAINER_STATES) this.set({ state }, 0);
      for (const container of sources.containers.list()) this.inc({ state: container.state });
    },
  });
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
