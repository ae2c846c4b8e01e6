import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

// What a crash test checks on the host after a restart: nothing under a daemon's roots that no
// listed container or pod owns (mounts, runc state, conmon processes, container directories).

/** Mount points under `root`. */
export function mountsUnder(root: string): string[] {
  return fs
    .readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((mountpoint) => mountpoint.startsWith(`${root}/`));
}

/** Container IDs runc knows under every runtime root of `state`. */
export function runcIds(state: string): string[] {
  const runtimes = path.join(state, 'runtimes');
  if (!fs.existsSync(runtimes)) return [];
  return fs.readdirSync(runtimes).flatMap((name) => {
    const out = execFileSync('runc', ['--root', path.join(runtimes, name), 'list', '-q'], { encoding: 'utf8' });
    return out.split('\n').filter(Boolean);
  });
}

/** The container IDs of live conmon processes whose bundle is under `state` (pid by ID). */
export function conmons(state: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'conmon') continue;
      args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const bundle = args[args.indexOf('-b') + 1] ?? '';
    const id = args[args.indexOf('-c') + 1] ?? '';
    if (bundle.startsWith(`${state}/`)) found.set(id, Number(entry));
  }
  return found;
}

/** Directories under `<state>/containers` (one per container, app or pause). */
export function containerDirIds(state: string): string[] {
  const dir = path.join(state, 'containers');
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

/** Everything under the roots that no listed container owns, described (empty when clean). */
export function leftovers(root: string, state: string, listed: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const mount of mountsUnder(root)) {
    const owner = /\/containers\/([0-9a-f]{64})\/rootfs$/.exec(mount)?.[1];
    if (owner !== undefined && !listed.has(owner)) out.push(`mount ${mount}`);
  }
  for (const id of runcIds(state)) if (!listed.has(id)) out.push(`runc state of ${id}`);
  for (const [id, pid] of conmons(state)) if (!listed.has(id)) out.push(`conmon ${pid} of ${id}`);
  for (const id of containerDirIds(state)) if (!listed.has(id)) out.push(`container directory ${id}`);
  return out;
}
