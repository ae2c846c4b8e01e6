import { cgroupfsContainerPath, cgroupfsPodCgroup } from '../../plugins/cgroupfs/cgroupfs-paths';
import type { CgroupDriver } from '../../core/tokens';

/**
 * A cgroup driver value for tests of the plugin core and of the driver lock: it answers with
 * cgroupfs paths under a given name, so a test can bind "systemd" on a host without systemd.
 * Tests that run containers use the real drivers.
 */
export function lockTestDriver(name: 'cgroupfs' | 'systemd'): CgroupDriver {
  return {
    name,
    criDriver: name === 'systemd' ? 'SYSTEMD' : 'CGROUPFS',
    describe: () => ({}),
    podCgroup: (sandboxId, parent) => cgroupfsPodCgroup(sandboxId, parent, '/caisson-test'),
    containerCgroupsPath: cgroupfsContainerPath,
    cgroupDirs: () => [],
    removePodCgroup: async () => undefined,
    readStats: async () => undefined,
  };
}
