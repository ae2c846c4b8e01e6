import * as fs from 'node:fs';
import { runProgram } from '../exec/run-program';

// The pod's /dev/shm: one tmpfs per pod (64 MiB, as Docker and containerd size it), shared by
// its containers through their bind mounts.

const SHM_SIZE = '64m';

export async function mountPodShm(dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o1777 });
  await runProgram('mount', ['-t', 'tmpfs', '-o', `nosuid,nodev,noexec,mode=1777,size=${SHM_SIZE}`, 'shm', dir]);
}

export async function unmountPodShm(dir: string): Promise<void> {
  if (!isMountPoint(dir)) return;
  await runProgram('umount', [dir]);
}

export function isMountPoint(dir: string): boolean {
  const mounts = fs.readFileSync('/proc/self/mounts', 'utf8');
  return mounts.split('\n').some((line) => line.split(' ')[1] === dir.replace(/ /g, '\\040'));
}
