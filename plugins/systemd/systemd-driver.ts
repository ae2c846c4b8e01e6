import type { CgroupMode } from '../../core/cgroup/cgroup-mode';
import type { CgroupDriver } from '../../core/tokens';

/** The systemd driver: pods and containers live in slices and scopes that systemd manages. */
export class SystemdDriver implements CgroupDriver {
  readonly name = 'systemd';
  readonly criDriver = 'SYSTEMD';

  constructor(
    private readonly mode: CgroupMode,
    private readonly systemdVersion: string,
    private readonly defaultParent: string,
  ) {}

  describe(): Record<string, string> {
    return { cgroupVersion: this.mode, systemdVersion: this.systemdVersion, defaultParent: this.defaultParent };
  }
}
