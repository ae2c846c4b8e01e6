import * as fs from 'node:fs';
import * as path from 'node:path';

// How many processes the OOM killer ended in a cgroup: "oom_kill N" in memory.oom_control (v1,
// kernel 4.13+) or memory.events (v2). Read when a container's exit is seen, while its cgroup
// still exists (runc removes it only at delete), so an OOM kill is never missed because the
// cgroup went away before an event was read.

export function oomKillCount(cgroupDirs: readonly string[]): number {
  for (const dir of cgroupDirs) {
    for (const file of ['memory.oom_control', 'memory.events']) {
      let text: string;
      try {
        text = fs.readFileSync(path.join(dir, file), 'utf8');
      } catch {
        continue;
      }
      const match = /^oom_kill (\d+)$/m.exec(text);
      if (match) return Number(match[1]);
    }
  }
  return 0;
}
