import * as fs from 'node:fs';
import * as path from 'node:path';
import { processStartTime, readRuncState, type RuncStateFile } from './runc-state-file';

// `runc delete --force` of a container whose process has ended removes the container's cgroup
// in each hierarchy (the paths its state.json lists), then its state folder: 20 ms and a Go
// program per container removal. We do the same when state.json says that is all there is to
// do: the init is gone (the pid is not the process runc started), cgroups are runc's own (not a
// systemd unit, which runc would stop over D-Bus), no hooks are to run, and every cgroup is
// empty. Anything else goes to `runc delete --force`, which also kills what is left.

/** Deletes a stopped container's runc state; false when `runc delete --force` must do it. */
export async function deleteDirectly(root: string, id: string): Promise<boolean> {
  const dir = path.join(root, id);
  const state = readRuncState(root, id);
  if (!state || !canDeleteDirectly(state, processStartTime)) return false;
  for (const cgroup of new Set(Object.values(state.cgroup_paths ?? {}))) {
    try {
      await fs.promises.rmdir(cgroup);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return false; // busy: runc kills what is left
    }
  }
  await fs.promises.rm(dir, { recursive: true, force: true });
  return true;
}

/** Pure: whether the state file describes a container runc would only have to tidy away. */
export function canDeleteDirectly(state: RuncStateFile, startTimeNow: (pid: number) => string | undefined): boolean {
  const pid = state.init_process_pid;
  if (pid === undefined || state.init_process_start === undefined) return false;
  if (startTimeNow(pid) === String(state.init_process_start)) return false; // still running
  if (state.config?.cgroups?.systemd) return false;
  if (state.intel_rdt_path) return false;
  const hooks = state.config?.hooks;
  if (hooks && Object.values(hooks).some((list) => (list?.length ?? 0) > 0)) return false;
  return Object.values(state.cgroup_paths ?? {}).every((cgroup) => cgroup.startsWith('/sys/fs/cgroup/'));
}
