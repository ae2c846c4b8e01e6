import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { findExecutable } from '../host-programs/find-executable';
import { runProgram } from '../host-programs/run-program';

// A pod-level PID namespace needs a living init: containers can only join a PID namespace whose
// first process is alive. The holder is `unshare --pid --fork --kill-child pause infinity`,
// started through `setsid -f` so it is re-parented away from the daemon and survives a restart.
// `pause` is a link to sleep in the sandbox's folder: the namespace's PID 1 is then named `pause`
// (as other runtimes' pause container is), so `pgrep sleep` in a container finds only the
// user's own sleeps, and `pkill sleep` cannot end the pod.
// Killing the holder ends the namespace and every process in it (how StopPodSandbox ends a pod
// with a shared PID namespace).

const START_TIMEOUT_MS = 5_000;
/** The holder's process name, seen as PID 1 inside the pod. */
export const HOLDER_NAME = 'pause';

export interface PidHolder {
  /** The unshare process (kill it to end the namespace). */
  readonly pid: number;
  /** /proc/<init>/ns/pid of the namespace's init, for containers to join. */
  readonly namespacePath: string;
}

export async function startPidHolder(dir: string): Promise<PidHolder> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pidFile = path.join(dir, 'pid-holder.pid');
  fs.rmSync(pidFile, { force: true });
  const pause = path.join(dir, HOLDER_NAME);
  const sleep = findExecutable('sleep');
  if (!sleep) throw new Error('cannot start the pod\'s PID namespace holder: no sleep on PATH');
  fs.rmSync(pause, { force: true });
  fs.symlinkSync(sleep, pause);
  // The holder must not keep our output pipes open (runProgram waits for them to close). The
  // paths are passed as arguments, never pasted into the script.
  await runProgram('setsid', ['-f', 'sh', '-c', 'echo $$ > "$1"; exec unshare --pid --fork --kill-child "$2" infinity </dev/null >/dev/null 2>&1', 'pid-holder', pidFile, pause]);
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const holder = readHolder(pidFile);
    if (holder) return holder;
    await delay(10);
  }
  throw new Error(`the pod's PID namespace holder did not start within ${START_TIMEOUT_MS} ms`);
}

function readHolder(pidFile: string): PidHolder | undefined {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let children: string;
  try {
    children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  } catch {
    return undefined;
  }
  const init = children.split(/\s+/)[0];
  if (!init) return undefined;
  return { pid, namespacePath: `/proc/${init}/ns/pid` };
}

export function pidHolderAlive(holder: PidHolder): boolean {
  return fs.existsSync(holder.namespacePath) && fs.existsSync(`/proc/${holder.pid}`);
}

export async function stopPidHolder(holder: PidHolder): Promise<void> {
  try {
    process.kill(holder.pid, 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
  for (let i = 0; i < 100 && fs.existsSync(`/proc/${holder.pid}`); i++) await delay(10);
}
