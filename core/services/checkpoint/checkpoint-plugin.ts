import { definePlugin, PluginType } from '../../plugin/plugin-manifest';
import { ContainerService, DaemonConfig } from '../../tokens';
import { checkpointContainerHandler } from './checkpoint-container';

/** service.checkpoint: CheckpointContainer with CRIU, selected by "enable-criu-support" (CRI-O's enable_criu_support). */
export const checkpointPlugin = definePlugin({
  id: 'checkpoint',
  type: PluginType.Service,
  requires: { containers: ContainerService, config: DaemonConfig },
  selectedBy: { key: 'enable-criu-support', when: (config) => config.enableCriuSupport },
  init(ctx, { containers, config }) {
    ctx.cri.handle('CheckpointContainer', checkpointContainerHandler({ containers, config }));
  },
});
