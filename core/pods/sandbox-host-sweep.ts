import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { CgroupDriver } from '../tokens';
import { HOLDER_NAME } from './pid-holder';

// What a killed daemon can leave on the host outside any record, found without one: PID
// holders (`unshare … <sandboxes>/<id>/pause infinity`, re-parented away from the daemon, so
// they outlive it) and pod cgroups under the daemon's pod parent. Recovery kills the holders
// and removes the cgroups of sandboxes it does not know.

const SANDBOX_ID = /^[0-9a-f]{64}$/;

/** PIDs of the processes whose arguments name `<sandboxesDir>/<id>/pause`, by sandbox ID. */
export function holderProcesses(sandboxesDir: string): Map<string, number[]> {
  const prefix = `${sandboxesDir}/`;
  const suffix = `/${HOLDER_NAME}`;
  const found = new Map<string, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let args: string[];
    try {
      args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // ended meanwhile
    }
    for (const arg of args) {
      if (!arg.startsWith(prefix) || !arg.endsWith(suffix)) continue;
      const id = arg.slice(prefix.length, -suffix.length);
      if (!SANDBOX_ID.test(id)) continue;
      found.set(id, [...(found.get(id) ?? []), Number(entry)]);
      break;
    }
  }
  return found;
}

/** SIGKILLs the processes and waits (briefly) until they are gone. */
export async function killProcesses(pids: readonly number[]): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
  for (let i = 0; i < 200 && pids.some((pid) => fs.existsSync(`/proc/${pid}`) && !isZombie(pid)); i++) await delay(10);
}

function isZombie(pid: number): boolean {
  try {
    return / Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, ' '));
  } catch {
    return false;
  }
}

/**
 * Pod cgroups `<parent>/<sandbox id>` (cgroupfs driver) that no known sandbox owns, removed.
 * Only empty ones go (rmdir refuses a cgroup with processes or children, which belong to a
 * container recovery has not ended): answers the IDs removed.
 */
export async function removeStrayPodCgroups(driver: CgroupDriver, known: ReadonlySet<string>): Promise<string[]> {
  if (driver.name !== 'cgroupfs') return [];
  const parent = driver.podCgroup('', '').path;
  const removed = new Set<string>();
  for (const dir of driver.cgroupDirs(parent)) {
    let entries: string[];
    try {
      entries = fs.readdirSync(dir);
    } catch {
      continue; // no pod was ever made in this hierarchy
    }
    for (const id of entries.filter((name) => SANDBOX_ID.test(name) && !known.has(name))) {
      try {
        await fs.promises.rmdir(path.join(dir, id));
        removed.add(id);
      } catch {
        // busy: a process or a container cgroup is still in it; left for its owner
      }
    }
  }
  return [...removed];
}
