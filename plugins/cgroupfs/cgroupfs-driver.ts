import { CGROUP_ROOT, type CgroupMode } from '../../core/cgroup/cgroup-mode';
import type { CgroupDriver } from '../../core/tokens';

/** The cgroupfs driver: Caisson (through runc) writes cgroup directories itself. */
export class CgroupfsDriver implements CgroupDriver {
  readonly name = 'cgroupfs';
  readonly criDriver = 'CGROUPFS';

  constructor(
    private readonly mode: CgroupMode,
    private readonly defaultParent: string,
  ) {}

  describe(): Record<string, string> {
    return { cgroupVersion: this.mode, root: CGROUP_ROOT, defaultParent: this.defaultParent };
  }
}
