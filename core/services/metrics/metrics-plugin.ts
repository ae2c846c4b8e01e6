import { definePlugin, PluginType } from '../../plugin/plugin-manifest';
import { optional } from '../../plugin/token';
import { CgroupDriver, ContainerService, ImageService, PodEventsStats, SandboxService } from '../../tokens';

/**
 * service.metrics: a Prometheus /metrics endpoint on "metrics-address":"metrics-port" (iSulad's
 * keys; port 0, the default, leaves it off). The endpoint and prom-client are loaded only when it
 * is on, so a daemon without metrics does not hold them in memory.
 */
export const metricsPlugin = definePlugin({
  id: 'metrics',
  type: PluginType.Service,
  requires: {
    sandboxes: SandboxService,
    containers: ContainerService,
    images: ImageService,
    driver: CgroupDriver,
    podEvents: optional(PodEventsStats),
  },
  selectedBy: { key: 'metrics-port', when: (config) => config.metricsPort !== 0 },
  async init(ctx, services) {
    const { startMetricsEndpoint } = await import('./metrics-endpoint');
    await startMetricsEndpoint(ctx, services);
  },
});
