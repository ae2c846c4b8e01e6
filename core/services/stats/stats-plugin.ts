import { definePlugin, PluginType } from '../../plugin/plugin-manifest';
import { defaultStatsSources } from '../../stats/stats-sources';
import { CgroupDriver, ContainerService, SandboxService } from '../../tokens';
import {
  containerStatsHandler,
  listContainerStatsHandler,
  listMetricDescriptorsHandler,
  listPodSandboxMetricsHandler,
  listPodSandboxStatsHandler,
  podSandboxStatsHandler,
} from './stats-handlers';

/** service.stats: container and pod sandbox stats and cAdvisor-style metrics (CRI 1.29). */
export const statsPlugin = definePlugin({
  id: 'stats',
  type: PluginType.Service,
  requires: ['service.pods'],
  init(ctx) {
    const { container } = ctx;
    const deps = {
      containers: container.resolve<ContainerService>(ContainerService),
      sandboxes: container.resolve<SandboxService>(SandboxService),
      sources: defaultStatsSources(container.resolve<CgroupDriver>(CgroupDriver)),
    };
    ctx.cri.handle('ContainerStats', containerStatsHandler(deps));
    ctx.cri.handle('ListContainerStats', listContainerStatsHandler(deps));
    ctx.cri.handle('PodSandboxStats', podSandboxStatsHandler(deps));
    ctx.cri.handle('ListPodSandboxStats', listPodSandboxStatsHandler(deps));
    ctx.cri.handle('ListMetricDescriptors', listMetricDescriptorsHandler());
    ctx.cri.handle('ListPodSandboxMetrics', listPodSandboxMetricsHandler(deps));
  },
});
