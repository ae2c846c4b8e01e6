import { constants } from 'node:os';
import { processStartTime, readRuncState, type RuncStateFile } from './runc-state-file';

// `runc kill` is a Go program that starts, reads the container's state.json, checks that the
// init process is still the one it started (by its start time, so a reused pid is never hit),
// and sends one signal: 30 to 50 ms of a busy machine's time for one kill(2). We do the same
// check on the same file and send the signal ourselves. Where that is not exactly what runc
// would do, the caller runs `runc kill`:
// - `--all` is only replaced for SIGKILL of a container with its own PID namespace: the kernel
//   kills every process of a PID namespace when its init dies, so killing init reaches all;
// - a state file we cannot read or whose init has gone or changed is left to runc to judge.

/** The signal number for `SIGTERM`, `TERM` or `15`; undefined for anything else. */
export function signalNumber(signal: string): number | undefined {
  if (/^\d+$/.test(signal)) return Number(signal) > 0 && Number(signal) < 65 ? Number(signal) : undefined;
  const name = signal.toUpperCase().startsWith('SIG') ? signal.toUpperCase() : `SIG${signal.toUpperCase()}`;
  return (constants.signals as Record<string, number | undefined>)[name];
}

/**
 * The pid to signal in place of `runc kill [--all] <id> <signal>`, given the container's
 * state.json and the start time /proc gives for its init now; undefined when runc must decide.
 */
export function directSignalTarget(state: RuncStateFile, startTimeNow: (pid: number) => string | undefined, signal: number, all: boolean): number | undefined {
  const pid = state.init_process_pid;
  if (pid === undefined || !Number.isInteger(pid) || pid <= 0) return undefined;
  if (state.init_process_start === undefined || startTimeNow(pid) !== String(state.init_process_start)) return undefined;
  if (!all) return pid;
  const ownPidNamespace = (state.config?.namespaces ?? []).some((ns) => ns.type === 'NEWPID' && !ns.path);
  return ownPidNamespace && signal === constants.signals.SIGKILL ? pid : undefined;
}

/**
 * Signals the container's init as `runc kill` would; false when runc must be asked instead. The
 * state file is runc's own (under its --root); runc writes it whole by renaming a temporary file.
 */
export function signalDirectly(root: string, id: string, signal: string, all: boolean): boolean {
  const number = signalNumber(signal);
  if (number === undefined) return false;
  const state = readRuncState(root, id);
  if (!state) return false;
  const pid = directSignalTarget(state, processStartTime, number, all);
  if (pid === undefined) return false;
  try {
    process.kill(pid, number);
    return true;
  } catch {
    return false; // it ended between the check and the signal: runc says what state it is in
  }
}
