import * as path from 'node:path';
import { InvalidArgumentError } from '../../core/plugin-api';

// cgroupfs paths, pure. A pod's cgroup is the kubelet's `cgroup_parent` (for example
// /kubepods/burstable/pod<uid>) when given, else `<cgroup-parent>/<sandbox id>`; a container's
// cgroup is `<pod cgroup>/<container id>`, the cgroupsPath handed to runc.

export function cgroupfsPodCgroup(sandboxId: string, criCgroupParent: string, defaultParent: string): { path: string; madeByCaisson: boolean } {
  if (criCgroupParent === '') return { path: path.posix.join(defaultParent, sandboxId), madeByCaisson: true };
  if (criCgroupParent.endsWith('.slice')) {
    throw new InvalidArgumentError(
      `cgroup parent "${criCgroupParent}" of the sandbox is a systemd slice, but this daemon uses the cgroupfs driver ("systemd-cgroup": false); kubelet and caissond must use the same cgroup driver`,
    );
  }
  if (!criCgroupParent.startsWith('/') || criCgroupParent.split('/').some((part) => part === '..' || part === '.')) {
    throw new InvalidArgumentError(`cgroup parent "${criCgroupParent}" of the sandbox is not an absolute cgroupfs path (for example /kubepods/burstable/pod1234)`);
  }
  return { path: path.posix.normalize(criCgroupParent).replace(/(.)\/+$/, '$1'), madeByCaisson: false };
}

export function cgroupfsContainerPath(podCgroup: string, containerId: string): string {
  return path.posix.join(podCgroup, containerId);
}
