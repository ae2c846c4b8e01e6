import * as fs from 'node:fs';
import * as path from 'node:path';

// Bytes (allocated blocks) and inodes used below a directory, counting hard-linked files once
// and staying on one filesystem, as `du -x` does.

export interface FsUsage {
  readonly usedBytes: number;
  readonly inodesUsed: number;
}

export async function directoryUsage(root: string): Promise<FsUsage> {
  const rootDevice = (await fs.promises.lstat(root)).dev;
  const seen = new Set<number>();
  let usedBytes = 0;
  const pending = [root];
  while (pending.length > 0) {
    const dir = pending.pop() as string;
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(dir, { withFileTypes: true });
    } catch {
      continue; // removed while we walked
    }
    for (const entry of [{ name: '.', isDirectory: () => false } as unknown as fs.Dirent, ...entries]) {
      const full = entry.name === '.' ? dir : path.join(dir, entry.name);
      let stat: fs.Stats;
      try {
        stat = await fs.promises.lstat(full);
      } catch {
        continue;
      }
      if (stat.dev !== rootDevice || seen.has(stat.ino)) continue;
      seen.add(stat.ino);
      usedBytes += stat.blocks * 512;
      if (entry.name !== '.' && stat.isDirectory()) pending.push(full);
    }
  }
  return { usedBytes, inodesUsed: seen.size };
}
