import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CGROUP_ROOT, controllerDirIn, readCgroupStats, type CgroupDriver, type CgroupMode, type CgroupStats } from '../../core/plugin-api';
import type { SystemdBus } from './systemd-bus';
import { systemdCgroupDir, systemdContainerPath, systemdPodCgroup } from './systemd-paths';

/** The systemd driver: pods and containers live in slices and scopes that systemd manages. */
export class SystemdDriver implements CgroupDriver {
  readonly name = 'systemd';
  readonly criDriver = 'SYSTEMD';

  constructor(
    private readonly mode: CgroupMode,
    private readonly systemdVersion: string,
    private readonly defaultParent: string,
    private readonly bus: Pick<SystemdBus, 'startScope' | 'stopUnit'>,
  ) {}

  /** conmon gets a transient scope of its own in the pod's slice, as CRI-O gives it one. */
  async placeSupervisor(pid: number, containerId: string, podCgroup: string): Promise<void> {
    const unit = supervisorScope(containerId);
    await this.bus.startScope(unit, podCgroup, [pid], `caisson supervisor of container ${containerId}`);
    // StartTransientUnit queues a job; the move is done once the pid's cgroup names the scope.
    const deadline = Date.now() + PLACE_TIMEOUT_MS;
    while (!readCgroupOf(pid).includes(`/${unit}`)) {
      if (Date.now() > deadline) throw new Error(`pid ${pid} did not move into ${unit} within ${PLACE_TIMEOUT_MS} ms`);
      await delay(10);
    }
  }

  /** Stops what systemd may still hold for a removed container: its scope and its supervisor's. */
  async releaseContainer(containerId: string): Promise<void> {
    for (const unit of [`caisson-${containerId}.scope`, supervisorScope(containerId)]) await this.bus.stopUnit(unit);
  }

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

const PLACE_TIMEOUT_MS = 5_000;

export function supervisorScope(containerId: string): string {
  return `caisson-conmon-${containerId}.scope`;
}

function readCgroupOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return '';
  }
}
