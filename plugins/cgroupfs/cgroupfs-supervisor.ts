import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

// A container's supervisor (conmon) in a cgroup of its own, as the systemd driver gives it a
// scope: left in the daemon's cgroup, a restart of the daemon's service (which kills its cgroup)
// would kill every container's monitor. The cgroup is `<parent>/conmon-<container id>`, beside
// the pod cgroups under the daemon's cgroup parent, so it is found from the container ID alone
// and removed with the container.

const RELEASE_GRACE_MS = 2_000;

export function supervisorCgroup(parent: string, containerId: string): string {
  return path.posix.join(parent, `conmon-${containerId}`);
}

/** Makes the cgroup in every given directory (one per hierarchy) and moves `pid` into it. */
export function placeInCgroup(dirs: readonly string[], pid: number): void {
  for (const file of prepareCgroup(dirs)) fs.writeFileSync(file, String(pid));
}

/** Makes the cgroup in every given directory, ready to take a process; answers its cgroup.procs files. */
export function prepareCgroup(dirs: readonly string[]): string[] {
  return dirs.map((dir) => {
    fs.mkdirSync(dir, { recursive: true });
    inheritCpuset(dir);
    return path.join(dir, 'cgroup.procs');
  });
}

/**
 * Removes the cgroup in every directory. conmon ends soon after its container; one that is
 * still there after a grace period (a rollback of a half-made container) is killed.
 */
export async function removeCgroup(dirs: readonly string[]): Promise<void> {
  for (const dir of dirs) {
    for (let waited = 0; ; waited += 50) {
      try {
        fs.rmdirSync(dir);
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code !== 'EBUSY') throw new Error(`cgroup ${dir} of a container's supervisor could not be removed: ${(error as Error).message}`, { cause: error });
        if (waited >= RELEASE_GRACE_MS * 2) throw new Error(`cgroup ${dir} of a container's supervisor still has processes after ${RELEASE_GRACE_MS * 2} ms`);
        if (waited >= RELEASE_GRACE_MS) killMembers(dir);
        await delay(50);
      }
    }
  }
}

function killMembers(dir: string): void {
  for (const pid of fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/** cgroup v1 cpuset: a new cgroup starts with no CPUs or memory nodes, and takes no process until given its parent's. */
function inheritCpuset(dir: string): void {
  const cpus = path.join(dir, 'cpuset.cpus');
  if (!fs.existsSync(cpus) || !fs.existsSync(path.join(dir, 'cpuset.mems'))) return;
  const parent = path.dirname(dir);
  for (const file of ['cpuset.cpus', 'cpuset.mems']) {
    if (fs.readFileSync(path.join(dir, file), 'utf8').trim() !== '') continue;
    if (fs.readFileSync(path.join(parent, file), 'utf8').trim() === '') inheritCpuset(parent);
    fs.writeFileSync(path.join(dir, file), fs.readFileSync(path.join(parent, file), 'utf8').trim());
  }
}
