import { definePlugin, PluginType } from '../../plugin/plugin-manifest';
import { ContainerService, RuntimeRegistry } from '../../tokens';
import { execSyncHandler } from './exec-sync';

/** service.exec: ExecSync (interactive Exec is served by service.streaming). */
export const execPlugin = definePlugin({
  id: 'exec',
  type: PluginType.Service,
  requires: { containers: ContainerService, runtimes: RuntimeRegistry },
  init(ctx, { containers, runtimes }) {
    ctx.cri.handle('ExecSync', execSyncHandler(containers, runtimes));
  },
});
