import * as path from 'node:path';
import { CGROUP_ROOT, type CgroupMode } from '../../core/cgroup/cgroup-mode';
import { controllerDirIn, readCgroupStats } from '../../core/cgroup/read-cgroup-stats';
import type { CgroupDriver, CgroupStats } from '../../core/tokens';
import { systemdCgroupDir, systemdContainerPath, systemdPodCgroup } from './systemd-paths';

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

  podCgroup(sandboxId: string, criCgroupParent: string): { path: string; madeByCaisson: boolean } {
    return systemdPodCgroup(sandboxId, criCgroupParent, this.defaultParent);
  }

  containerCgroupsPath(podCgroup: string, containerId: string): string {
    return systemdContainerPath(podCgroup, containerId);
  }

  cgroupDirs(cgroupsPath: string): string[] {
    const relative = cgroupsPath.includes(':') || cgroupsPath.endsWith('.slice') ? systemdCgroupDir(cgroupsPath) : cgroupsPath;
    if (this.mode === 'v2') return [path.join(CGROUP_ROOT, relative)];
    return ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'blkio', 'devices', 'freezer', 'systemd'].map((c) => path.join(CGROUP_ROOT, c, relative));
  }

  /** Slices are systemd's to keep or collect; Caisson makes none of its own. */
  async removePodCgroup(): Promise<void> {
    return Promise.resolve();
  }

  async readStats(cgroupsPath: string): Promise<CgroupStats | undefined> {
    return readCgroupStats(this.mode, controllerDirIn(this.mode, this.cgroupDirs(cgroupsPath)));
  }
}
