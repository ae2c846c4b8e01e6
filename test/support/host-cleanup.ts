import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { cgroupHierarchies, cgroupsUnder, liveHolders, processesNaming, runcContainers, type HostRoots } from './host-state';

// The safety net of crash tests: what a daemon's roots left on the host after the daemon could not
// remove it (a failed recovery), removed without the daemon: runc containers, conmon and holder
// processes (by PID, found through the roots), then the cgroups under the test's own parent, and the parent.
// Mounts are left to unmountBelow, which runs after this.

const run = promisify(execFile);

export async function cleanUpHost(roots: HostRoots): Promise<void> {
  for (const { runtime, id } of await runcContainers(roots.state).catch(() => [])) {
    await run('runc', ['--root', path.join(roots.state, 'runtimes', runtime), 'delete', '--force', id]).catch(() => undefined);
  }
  const pids = [...processesNaming([roots.graph, roots.state]).map((p) => p.pid), ...liveHolders(roots.state).map((h) => h.pid)];
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  // Deepest first; a cgroup with no process left can be removed with rmdir.
  const cgroups = cgroupsUnder(roots.cgroupParent).sort((a, b) => b.length - a.length);
  for (const dir of cgroups) tryRmdir(dir);
  // The parent itself is the test's own (the daemon makes it in every hierarchy).
  for (const hierarchy of cgroupHierarchies()) tryRmdir(path.join(hierarchy, roots.cgroupParent));
}

function tryRmdir(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    // gone already, or still has a process (reported by the invariants)
  }
}
