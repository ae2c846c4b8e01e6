import { definePlugin, PluginType } from '../../plugin/plugin-manifest';
import { CgroupDriver, DaemonConfig, DaemonInfo, Logger, MetadataStore, NetworkPlugin, RuntimeRegistry } from '../../tokens';
import { runtimeConfigHandler } from './runtime-config';
import { statusHandler } from './status';
import { updateRuntimeConfigHandler } from './update-runtime-config';
import { versionHandler } from './version';

/** service.runtime-info: Version, Status, RuntimeConfig and UpdateRuntimeConfig. */
export const runtimeInfoPlugin = definePlugin({
  id: 'runtime-info',
  type: PluginType.Service,
  requires: [PluginType.CgroupDriver, PluginType.Runtime],
  init(ctx) {
    const { container } = ctx;
    const driver = container.resolve<CgroupDriver>(CgroupDriver);
    const store = container.resolve<MetadataStore>(MetadataStore);
    const info = container.resolve<DaemonInfo>(DaemonInfo);
    ctx.cri.handle('Version', versionHandler(info));
    ctx.cri.handle('RuntimeConfig', runtimeConfigHandler(driver));
    ctx.cri.handle('UpdateRuntimeConfig', updateRuntimeConfigHandler(store, container.resolve<Logger>(Logger)));
    ctx.cri.handle(
      'Status',
      statusHandler({
        runtimes: container.resolve<RuntimeRegistry>(RuntimeRegistry),
        driver,
        config: container.resolve<DaemonConfig>(DaemonConfig),
        info,
        store,
        network: () => (container.isRegistered(NetworkPlugin, true) ? container.resolve<NetworkPlugin>(NetworkPlugin) : undefined),
      }),
    );
  },
});
