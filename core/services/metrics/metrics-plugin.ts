import { definePlugin, PluginType } from '../../plugin/plugin-manifest';

/**
 * service.metrics: a Prometheus /metrics endpoint on "metrics-address":"metrics-port" (iSulad's
 * keys; port 0, the default, leaves it off). The endpoint and prom-client are loaded only when it
 * is on, so a daemon without metrics does not hold them in memory.
 */
export const metricsPlugin = definePlugin({
  id: 'metrics',
  type: PluginType.Service,
  requires: ['service.pods', 'image.images'],
  selectedBy: { key: 'metrics-port', when: (config) => config.metricsPort !== 0 },
  async init(ctx) {
    const { startMetricsEndpoint } = await import('./metrics-endpoint');
    await startMetricsEndpoint(ctx);
  },
});
