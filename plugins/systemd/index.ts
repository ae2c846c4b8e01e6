import { CgroupDriver, definePlugin, describeError, detectCgroupMode, PluginType } from '../../core/plugin-api';
import type { SystemdBus } from './systemd-bus';
import { SystemdDriver } from './systemd-driver';

const CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_PARENT = 'system.slice';

/** cgroup-driver.systemd: the driver when `systemd-cgroup` is true; needs systemd on D-Bus. */
export const systemdPlugin = definePlugin({
  id: 'systemd',
  type: PluginType.CgroupDriver,
  selectedBy: { key: 'systemd-cgroup', when: (config) => config.systemdCgroup },
  provides: [CgroupDriver],
  async init(ctx) {
    // D-Bus (dbus-next and its XML parser) is loaded only when this driver is chosen: a daemon on
    // cgroupfs never holds it in memory.
    const { SystemdBus: Bus, systemBusAddress } = await import('./systemd-bus');
    let connection: Awaited<ReturnType<typeof SystemdBus.connect>>;
    try {
      connection = await Bus.connect(CONNECT_TIMEOUT_MS);
    } catch (error) {
      throw new Error(
        `"systemd-cgroup" is true but systemd is not reachable on D-Bus at ${systemBusAddress()} (${describeError(error)}); ` +
          'run caissond on a host booted with systemd, or set "systemd-cgroup": false to use the cgroupfs driver',
        { cause: error },
      );
    }
    ctx.onStop(() => connection.bus.disconnect());
    const parent = ctx.daemonConfig.cgroupParent || DEFAULT_PARENT;
    ctx.provide(CgroupDriver, new SystemdDriver(detectCgroupMode(), connection.version, parent, connection.bus));
    ctx.logger.info(`cgroup driver systemd (systemd ${connection.version})`, { parent });
  },
});
