import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMountPoint } from '../pods/pod-shm';
import { mountFilesystem, unmountAll } from '../syscalls/mounts';

// A container's root filesystem: an overlay of the image's layer snapshots (read-only lower
// directories, top first) under the container's own writable upper directory.
//
// The kernel takes at most one page of mount options, and a snapshot's absolute path is about
// 100 bytes: an image of more than about 40 layers could not be mounted. So, like Docker's
// overlay2 and containers/storage, the layers are named by short relative paths: a directory of
// symlinks beside the upper directory (`lower/0` → the top layer, `lower/1` → the next, …), and
// the mount resolves them from it. 500 layers (overlayfs' own limit) fit in under 2,000 bytes.

export async function mountRootfs(lowerDirs: readonly string[], upper: string, work: string, target: string): Promise<void> {
  for (const dir of [upper, work, target]) fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const links = path.join(path.dirname(upper), 'lower');
  fs.rmSync(links, { recursive: true, force: true });
  fs.mkdirSync(links, { mode: 0o700 });
  lowerDirs.forEach((dir, i) => fs.symlinkSync(dir, path.join(links, String(i))));
  const options = `lowerdir=${lowerDirs.map((_, i) => String(i)).join(':')},upperdir=${upper},workdir=${work}`;
  await mountFilesystem({ type: 'overlay', source: 'overlay', target, options, cwd: links });
}

export async function unmountRootfs(target: string): Promise<void> {
  if (isMountPoint(target)) await unmountAll([target]);
}
