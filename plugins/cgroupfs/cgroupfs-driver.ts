import * as fs from 'node:fs';
import * as path from 'node:path';
import { CGROUP_ROOT, controllerDirIn, readCgroupStats, type CgroupDriver, type CgroupMode, type CgroupStats } from '../../core/plugin-api';
import { cgroupfsContainerPath, cgroupfsPodCgroup } from './cgroupfs-paths';
import { placeInCgroup, prepareCgroup, removeCgroup, supervisorCgroup } from './cgroupfs-supervisor';

/** The cgroupfs driver: runc writes cgroup directories itself, at the paths this driver gives. */
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

  podCgroup(sandboxId: string, criCgroupParent: string): { path: string; madeByCaisson: boolean } {
    return cgroupfsPodCgroup(sandboxId, criCgroupParent, this.defaultParent);
  }

  containerCgroupsPath(podCgroup: string, containerId: string): string {
    return cgroupfsContainerPath(podCgroup, containerId);
  }

  cgroupDirs(cgroupsPath: string): string[] {
    if (this.mode === 'v2') return [path.join(CGROUP_ROOT, cgroupsPath)];
    return mountedHierarchies().map((hierarchy) => path.join(hierarchy, cgroupsPath));
  }

  /** rmdir from the deepest level up to (not including) the default parent, in every hierarchy. */
  async removePodCgroup(podCgroup: string): Promise<void> {
    for (const dir of this.cgroupDirs(podCgroup)) {
      try {
        await fs.promises.rmdir(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
  }

  /** conmon into `<parent>/conmon-<id>` (cgroupfs-supervisor.ts), out of the daemon's cgroup. */
  async placeSupervisor(pid: number, containerId: string): Promise<void> {
    placeInCgroup(this.cgroupDirs(supervisorCgroup(this.defaultParent, containerId)), pid);
    return Promise.resolve();
  }

  supervisorCgroupProcs(containerId: string): string[] {
    return prepareCgroup(this.cgroupDirs(supervisorCgroup(this.defaultParent, containerId)));
  }

  /** Removes the supervisor's cgroup once the container is gone. */
  async releaseContainer(containerId: string): Promise<void> {
    await removeCgroup(this.cgroupDirs(supervisorCgroup(this.defaultParent, containerId)));
  }

  async readStats(cgroupsPath: string): Promise<CgroupStats | undefined> {
    return readCgroupStats(this.mode, controllerDirIn(this.mode, this.cgroupDirs(cgroupsPath)));
  }
}

/** The v1 hierarchies mounted under /sys/fs/cgroup (net_cls and the like may exist unmounted). */
/** The mount table, read at most once per interval: cgroup hierarchies are not mounted per pod. */
const HIERARCHIES_FRESH_MS = 5_000;
let knownHierarchies: { readonly dirs: string[]; readonly at: number } | undefined;

function mountedHierarchies(): string[] {
  if (knownHierarchies && Date.now() - knownHierarchies.at < HIERARCHIES_FRESH_MS) return knownHierarchies.dirs;
  knownHierarchies = { dirs: readMountedHierarchies(), at: Date.now() };
  return knownHierarchies.dirs;
}

function readMountedHierarchies(): string[] {
  const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n');
  const dirs = new Set<string>();
  for (const line of mounts) {
    const [, mountpoint, type] = line.split(' ');
    if (mountpoint?.startsWith(`${CGROUP_ROOT}/`) && (type === 'cgroup' || type === 'cgroup2')) dirs.add(mountpoint);
  }
  return [...dirs];
}
