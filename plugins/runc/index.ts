import { CgroupDriver, definePlugin, PluginType, RuntimeRegistry, type DaemonConfig } from '../../core/plugin-api';
import { createRuncRuntime } from './create-runc-runtime';

/** The runtime named "runc" unless daemon.json `runtimes` redefines it. */
const BUILT_IN_RUNC = { path: 'runc', runtimeArgs: [] as readonly string[] };

function runtimeEntries(config: DaemonConfig): [string, { path: string; runtimeArgs: readonly string[] }][] {
  return Object.entries({ runc: BUILT_IN_RUNC, ...config.runtimes });
}

/** runtime.runc: every runc-compatible runtime of daemon.json `runtimes`, plus runc itself. */
export const runcPlugin = definePlugin({
  id: 'runc',
  type: PluginType.Runtime,
  requires: { registry: RuntimeRegistry, driver: CgroupDriver },
  runtimes: (config) => runtimeEntries(config).map(([name]) => name),
  async init(ctx, { registry, driver }) {
    for (const [name, entry] of runtimeEntries(ctx.daemonConfig)) {
      const runtime = createRuncRuntime({ name, path: entry.path, runtimeArgs: entry.runtimeArgs, daemonConfig: ctx.daemonConfig, driver });
      registry.register(ctx.identity, runtime);
      const readiness = await runtime.checkReady();
      if (readiness.ready) ctx.logger.info(`runtime "${name}" ready`, runtime.describe());
      else ctx.logger.warn(readiness.message);
    }
  },
});
