import { definePlugin, PluginType } from '../../plugin/plugin-manifest';
import { defaultStatsSources } from '../../stats/stats-sources';
import { CgroupDriver, ContainerService, SandboxService } from '../../tokens';
import { containerStatsHandler } from './container-stats';
import { listContainerStatsHandler } from './list-container-stats';
import { listMetricDescriptorsHandler } from './list-metric-descriptors';
import { listPodSandboxMetricsHandler } from './list-pod-sandbox-metrics';
import { listPodSandboxStatsHandler } from './list-pod-sandbox-stats';
import { podSandboxStatsHandler } from './pod-sandbox-stats';

/** service.stats: container and pod sandbox stats and cAdvisor-style metrics (CRI 1.29). */
export const statsPlugin = definePlugin({
  id: 'stats',
  type: PluginType.Service,
  requires: { containers: ContainerService, sandboxes: SandboxService, driver: CgroupDriver },
  init(ctx, { containers, sandboxes, driver }) {
    const deps = { containers, sandboxes, sources: defaultStatsSources(driver) };
    ctx.cri.handle('ContainerStats', containerStatsHandler(deps));
    ctx.cri.handle('ListContainerStats', listContainerStatsHandler(deps));
    ctx.cri.handle('PodSandboxStats', podSandboxStatsHandler(deps));
    ctx.cri.handle('ListPodSandboxStats', listPodSandboxStatsHandler(deps));
    ctx.cri.handle('ListMetricDescriptors', listMetricDescriptorsHandler());
    ctx.cri.handle('ListPodSandboxMetrics', listPodSandboxMetricsHandler(deps));
  },
});
