import { CgroupDriver, definePlugin, detectCgroupMode, PluginType } from '../../core/plugin-api';
import { CgroupfsDriver } from './cgroupfs-driver';

/** Parent of pod cgroups when neither the pod nor daemon.json `cgroup-parent` names one. */
const DEFAULT_PARENT = '/caisson';

/** cgroup-driver.cgroupfs: the driver when `systemd-cgroup` is false (the default). */
export const cgroupfsPlugin = definePlugin({
  id: 'cgroupfs',
  type: PluginType.CgroupDriver,
  selectedBy: { key: 'systemd-cgroup', when: (config) => !config.systemdCgroup },
  provides: [CgroupDriver],
  init(ctx) {
    const mode = detectCgroupMode();
    const parent = ctx.daemonConfig.cgroupParent || DEFAULT_PARENT;
    ctx.provide(CgroupDriver, new CgroupfsDriver(mode, parent));
    ctx.logger.info(`cgroup driver cgroupfs on cgroup ${mode}`, { parent });
  },
});
