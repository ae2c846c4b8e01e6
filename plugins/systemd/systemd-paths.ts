import * as path from 'node:path';
import { InvalidArgumentError } from '../../core/plugin-api';

// systemd cgroup names, pure. A pod's cgroup is a slice (kubelet sends
// kubepods-burstable-pod<uid>.slice); a container's cgroupsPath for runc --systemd-cgroup is
// "<slice>:caisson:<id>", which runc turns into <slice path>/caisson-<id>.scope. A slice name
// expands the systemd way: a-b-c.slice lives at a.slice/a-b.slice/a-b-c.slice.

export function systemdPodCgroup(sandboxId: string, criCgroupParent: string, defaultParent: string): { path: string; madeByCaisson: boolean } {
  if (criCgroupParent === '') return { path: defaultParent, madeByCaisson: false };
  const name = path.posix.basename(criCgroupParent);
  if (!name.endsWith('.slice') || name.includes('/') || name === '.slice') {
    throw new InvalidArgumentError(
      `Invalid cgroup path: cgroup parent "${criCgroupParent}" of sandbox ${sandboxId} is not a systemd slice (for example kubepods-burstable-pod1234.slice); this daemon uses the systemd driver`,
    );
  }
  return { path: name, madeByCaisson: false };
}

export function systemdContainerPath(slice: string, containerId: string): string {
  return `${slice}:caisson:${containerId}`;
}

/** "a-b.slice" → "/a.slice/a-b.slice"; "-.slice" is the root. */
export function expandSlice(slice: string): string {
  if (slice === '-.slice') return '/';
  const stem = slice.slice(0, -'.slice'.length);
  const parts = stem.split('-');
  let current = '';
  const dirs: string[] = [];
  for (const part of parts) {
    current = current === '' ? part : `${current}-${part}`;
    dirs.push(`${current}.slice`);
  }
  return `/${dirs.join('/')}`;
}

/** The cgroup directory path (relative to a hierarchy) of a systemd cgroupsPath. */
export function systemdCgroupDir(cgroupsPath: string): string {
  const [slice = '', prefix = '', name = ''] = cgroupsPath.split(':');
  if (prefix === '' && name === '') return expandSlice(slice);
  return path.posix.join(expandSlice(slice), `${prefix}-${name}.scope`);
}
