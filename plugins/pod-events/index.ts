import { z } from 'zod';
import { definePlugin, EventBus, MetadataStore, PluginType, PodEventsStats, SandboxService, type ContainerRecord, type SandboxRecord } from '../../core/plugin-api';
import { PodEventsService } from './pod-events-service';

const configSchema = z.object({ 'buffer-size': z.number().int().min(1).default(1000) }).strict();

/** events.pod-events: GetContainerEvents (the kubelet's evented PLEG), selected by "enable-pod-events". */
export const podEventsPlugin = definePlugin({
  id: 'pod-events',
  type: PluginType.Events,
  requires: { sandboxes: SandboxService, store: MetadataStore, bus: EventBus },
  provides: [PodEventsStats],
  selectedBy: { key: 'enable-pod-events', when: (config) => config.enablePodEvents },
  configSchema,
  init(ctx, { sandboxes, store, bus }) {
    const bufferSize = ctx.config['buffer-size'];
    const service = new PodEventsService({
      bufferSize,
      logger: ctx.logger,
      // Read straight from the store, as each event's change was saved before it was published:
      // ContainerService.list would fold in pending exits and so publish from inside a listener.
      source: {
        sandbox: (id) => store.getSandbox<SandboxRecord>(id),
        containers: (sandboxId) => store.listContainers<ContainerRecord>(sandboxId),
      },
    });
    service.seed(sandboxes.list());
    const unsubscribe = bus.subscribe(service.onEvent);
    ctx.onStop(() => {
      unsubscribe();
      service.close();
    });
    ctx.cri.handle('GetContainerEvents', service.handle);
    ctx.provide(PodEventsStats, {
      subscribers: () => service.subscriberCount,
      overflows: () => service.overflows,
      published: () => service.published,
    });
    ctx.logger.info(`pod lifecycle events on; buffer-size ${bufferSize}`);
  },
});
