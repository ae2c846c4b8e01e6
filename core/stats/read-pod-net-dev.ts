import * as fs from 'node:fs';
import { runProgram } from '../host-programs/run-program';

// /proc/net/dev (parsed by proc-net-dev.ts) as seen inside a pod's network namespace.
// /proc/<pid>/net shows the network namespace of that process, so when a process of the pod is
// known (a running container's init) its file is read directly; nsenter, a spawn per pod per
// call, is only the fallback for a pod with no running process. The kubelet asks for pod stats
// every few seconds.

const NSENTER_TIMEOUT_MS = 5_000;

export async function readProcNetDev(netnsFile: string, podPids: readonly number[]): Promise<string> {
  const pinned = await fs.promises.stat(netnsFile);
  for (const pid of podPids) {
    const text = await readThroughProcess(pid, pinned).catch(() => undefined);
    if (text !== undefined) return text;
  }
  return (await runProgram('nsenter', [`--net=${netnsFile}`, 'cat', '/proc/net/dev'], { timeoutMs: NSENTER_TIMEOUT_MS })).stdout;
}

/** The process's /proc/net/dev when it is in the pinned namespace before and after the read. */
async function readThroughProcess(pid: number, pinned: fs.Stats): Promise<string | undefined> {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const inPinned = async (): Promise<boolean> => {
    const ns = await fs.promises.stat(`/proc/${pid}/ns/net`);
    return ns.ino === pinned.ino && ns.dev === pinned.dev;
  };
  if (!(await inPinned())) return undefined;
  const text = await fs.promises.readFile(`/proc/${pid}/net/dev`, 'utf8');
  // A pid reused by a process elsewhere between the two checks is caught by the second one.
  return (await inPinned()) ? text : undefined;
}
