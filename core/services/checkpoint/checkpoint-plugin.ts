import { definePlugin, PluginType } from '../../plugin/plugin-manifest';
import { ContainerService, DaemonConfig } from '../../tokens';
import { checkpointContainerHandler } from './checkpoint-container';

/** service.checkpoint: CheckpointContainer with CRIU, selected by "enable-criu-support" (CRI-O's enable_criu_support). */
export const checkpointPlugin = definePlugin({
  id: 'checkpoint',
  type: PluginType.Service,
  requires: ['service.pods'],
  selectedBy: { key: 'enable-criu-support', when: (config) => config.enableCriuSupport },
  init(ctx) {
    const containers = ctx.container.resolve<ContainerService>(ContainerService);
    const config = ctx.container.resolve<DaemonConfig>(DaemonConfig);
    ctx.cri.handle('CheckpointContainer', checkpointContainerHandler({ containers, config }));
  },
});
