import * as fs from 'node:fs';
import * as path from 'node:path';

// runc's own record of a container, `<root>/<id>/state.json` (runc writes it whole, through a
// temporary file and a rename). The runc plugin reads it to do, without starting runc, what a
// runc command would do when the file says it is safe (direct-signal, exec-fifo-start,
// direct-delete). Only the fields those need are typed; the format is stable across runc 1.x.

export interface RuncStateFile {
  readonly init_process_pid?: number;
  readonly init_process_start?: number | string;
  readonly cgroup_paths?: Readonly<Record<string, string>>;
  readonly intel_rdt_path?: string;
  readonly config?: {
    readonly namespaces?: readonly { readonly type?: string; readonly path?: string }[];
    readonly cgroups?: { readonly systemd?: boolean };
    readonly hooks?: Readonly<Record<string, readonly unknown[] | null>> | null;
  };
}

/** The container's state file, or undefined when there is none (or it cannot be read). */
export function readRuncState(root: string, id: string): RuncStateFile | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, id, 'state.json'), 'utf8')) as RuncStateFile;
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/<pid>/stat: the process's start time in clock ticks since boot. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}
