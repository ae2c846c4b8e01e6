import * as fs from 'node:fs';
import { runProgram } from '../exec/run-program';
import { isMountPoint } from '../pods/pod-shm';

// A container's root filesystem: an overlay of the image's layer snapshots (read-only lower
// directories, top first) under the container's own writable upper directory.

export async function mountRootfs(lowerDirs: readonly string[], upper: string, work: string, target: string): Promise<void> {
  for (const dir of [upper, work, target]) fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const options = `lowerdir=${lowerDirs.join(':')},upperdir=${upper},workdir=${work}`;
  await runProgram('mount', ['-t', 'overlay', 'overlay', '-o', options, target]);
}

export async function unmountRootfs(target: string): Promise<void> {
  if (isMountPoint(target)) await runProgram('umount', [target]);
}
