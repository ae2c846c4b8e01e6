import * as fs from 'node:fs';
import * as path from 'node:path';

// The pod's /dev/shm: one tmpfs per pod (64 MiB, as Docker and containerd size it), shared by
// its containers through their bind mounts. It is mounted and unmounted together with the pinned
// namespaces (pinned-namespaces.ts): by the native addon with no program, or by the one unshare.

export const POD_SHM_MOUNT_OPTIONS = 'nosuid,nodev,noexec,mode=1777,size=64m';

/**
 * True when a filesystem other than its parent's is mounted on `target`: what the daemon mounts
 * (tmpfs, overlay, nsfs) always has a device of its own. Two stats, where reading the mount
 * table grew with every running pod and was read several times per pod.
 */
export function isMountPoint(target: string): boolean {
  try {
    return fs.statSync(target).dev !== fs.statSync(path.dirname(target)).dev;
  } catch {
    return false;
  }
}
