import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { PluginContext } from '../../plugin/plugin-manifest';
import { defaultStatsSources } from '../../stats/stats-sources';
import type { CgroupDriver, ContainerService, ImageService, PodEventsStats, SandboxService } from '../../tokens';
import { listPodSandboxMetricsHandler } from '../stats/list-pod-sandbox-metrics';
import { criCallMetrics } from './cri-call-metrics';
import { objectMetrics } from './object-metrics';
import { resourceMetrics } from './resource-metrics';

// The Prometheus /metrics endpoint of service.metrics, in the Prometheus text format rendered by
// prom-client: CRI calls and operations (fed by a CRI call observer), what the daemon holds, the
// pod events streams, the process (RSS, heap, event-loop lag: prom-client's default metrics,
// prefixed caisson_), and the containers' and pods' resource metrics from ListPodSandboxMetrics.

/** What the endpoint reads: the manifest's `requires` in metrics-plugin.ts. */
export interface MetricsSources {
  readonly sandboxes: SandboxService;
  readonly containers: ContainerService;
  readonly images: ImageService;
  readonly driver: CgroupDriver;
  readonly podEvents: PodEventsStats | undefined;
}

export async function startMetricsEndpoint(ctx: PluginContext, sources: MetricsSources): Promise<void> {
  const { sandboxes, containers, images, driver, podEvents } = sources;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'caisson_' });
  const onCall = criCallMetrics(registry);
  const objects = objectMetrics(registry, {
    sandboxes,
    containers,
    images,
    podEvents: () => podEvents,
  });
  ctx.cri.observe((call) => {
    onCall(call);
    if (call.rpc === 'PullImage' && call.code === 'OK') objects.pulled(String((call.response as { image_ref?: string } | undefined)?.image_ref ?? ''));
  });
  const listMetrics = listPodSandboxMetricsHandler({
    containers,
    sandboxes,
    sources: defaultStatsSources(driver),
  });
  const resources = resourceMetrics(registry, () => listMetrics({}, { apiVersion: 'v1', signal: new AbortController().signal }) as never);

  const server = http.createServer((request, response) => {
    if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('only GET /metrics is served here\n');
      return;
    }
    resources
      .refresh()
      .then(() => registry.metrics())
      .then(
        (text) => response.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
        (error: unknown) => {
          ctx.logger.error(`metrics scrape failed: ${error instanceof Error ? error.message : String(error)}`);
          response.writeHead(500, { 'Content-Type': 'text/plain' }).end('the metrics could not be gathered; see the daemon log\n');
        },
      );
  });
  const { metricsAddress: host, metricsPort: port } = ctx.daemonConfig;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`the metrics endpoint cannot listen on ${host}:${port}: ${error.message}`)));
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  ctx.logger.info('metrics endpoint listening', { address: `http://${host}:${address.port}/metrics` });
  ctx.onStop(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
}
