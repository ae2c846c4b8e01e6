import { definePlugin, PluginType } from '../../plugin/plugin-manifest';
import { optional } from '../../plugin/token';
import { CgroupDriver, DaemonConfig, DaemonInfo, Logger, MetadataStore, NetworkPlugin, RuntimeRegistry } from '../../tokens';
import { runtimeConfigHandler } from './runtime-config';
import { statusHandler } from './status';
import { updateRuntimeConfigHandler } from './update-runtime-config';
import { versionHandler } from './version';

/** service.runtime-info: Version, Status, RuntimeConfig and UpdateRuntimeConfig. */
export const runtimeInfoPlugin = definePlugin({
  id: 'runtime-info',
  type: PluginType.Service,
  requires: {
    driver: CgroupDriver,
    store: MetadataStore,
    info: DaemonInfo,
    logger: Logger,
    runtimes: RuntimeRegistry,
    config: DaemonConfig,
    network: optional(NetworkPlugin),
  },
  // Status reports every runtime, so they must have registered first.
  after: [PluginType.Runtime],
  init(ctx, { driver, store, info, logger, runtimes, config, network }) {
    ctx.cri.handle('Version', versionHandler(info));
    ctx.cri.handle('RuntimeConfig', runtimeConfigHandler(driver));
    ctx.cri.handle('UpdateRuntimeConfig', updateRuntimeConfigHandler(store, logger));
    ctx.cri.handle(
      'Status',
      statusHandler({
        runtimes,
        driver,
        config,
        info,
        store,
        network: () => network,
      }),
    );
  },
});
