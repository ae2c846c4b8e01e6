import * as fs from 'node:fs';

// The pod's /dev/shm: one tmpfs per pod (64 MiB, as Docker and containerd size it), shared by
// its containers through their bind mounts. It is mounted and unmounted together with the pinned
// namespaces (pinned-namespaces.ts), so a pod costs one spawn for both.

export const POD_SHM_MOUNT_OPTIONS = 'nosuid,nodev,noexec,mode=1777,size=64m';

export function isMountPoint(dir: string): boolean {
  const mounts = fs.readFileSync('/proc/self/mounts', 'utf8');
  return mounts.split('\n').some((line) => line.split(' ')[1] === dir.replace(/ /g, '\\040'));
}
