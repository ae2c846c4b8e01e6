import * as fs from 'node:fs';
import * as path from 'node:path';
import { processStartTime, readRuncState } from './runc-state-file';

// `runc start` does one thing once it has started (a Go program: 10 to 25 ms of CPU on a busy
// node): `runc create` left the container's init blocked writing "0" to `<root>/<id>/exec.fifo`,
// and start opens that FIFO, reads the byte (the init then execs the user's process) and removes
// it. We do the same, after the same checks runc makes: the init is the process runc started
// (state.json's pid and start time) and the FIFO is there. Anything else (no state file, no FIFO,
// a changed init) is left to `runc start`, which answers with runc's own error.

const EXEC_FIFO = 'exec.fifo';
const WATCH_INTERVAL_MS = 100;

/** Starts a created container through its exec FIFO; false when `runc start` must do it. */
export async function startThroughExecFifo(root: string, id: string): Promise<boolean> {
  const fifo = path.join(root, id, EXEC_FIFO);
  const init = createdInit(root, id);
  if (init === undefined || !fs.existsSync(fifo)) return false;
  // The open meets the init's pending open for writing at once. Should the init die first, the
  // open would wait for ever: as runc does, we look at the init every 100 ms, and when it is gone
  // we open the FIFO for writing ourselves, which releases our open with nothing to read.
  const watch = setInterval(() => {
    if (initAlive(init)) return;
    fs.promises.open(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK).then(
      (handle) => handle.close(),
      () => undefined,
    );
  }, WATCH_INTERVAL_MS);
  let said: Buffer;
  try {
    const handle = await fs.promises.open(fifo, fs.constants.O_RDONLY);
    try {
      said = await handle.readFile();
    } finally {
      await handle.close();
    }
  } finally {
    clearInterval(watch);
  }
  if (said.length === 0) throw new Error(`container ${id} cannot start: its process is already dead`);
  await fs.promises.rm(fifo, { force: true });
  return true;
}

interface Init {
  readonly pid: number;
  readonly startTime: string;
}

function createdInit(root: string, id: string): Init | undefined {
  const state = readRuncState(root, id);
  const pid = state?.init_process_pid;
  if (state === undefined || pid === undefined || state.init_process_start === undefined) return undefined;
  const init = { pid, startTime: String(state.init_process_start) };
  return initAlive(init) ? init : undefined;
}

/** Still the process runc started, and not a zombie. */
function initAlive(init: Init): boolean {
  if (processStartTime(init.pid) !== init.startTime) return false;
  try {
    const stat = fs.readFileSync(`/proc/${init.pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
