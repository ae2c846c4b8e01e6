import * as fs from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { DeadlineExceededError } from '../errors';

// ReopenContainerLog answers once the supervisor has made the new log file: the kubelet (and
// critest) rename the old file, call the RPC, and look for the new one right after it answers.
// The supervisor reopens on its own time (conmon reads its control FIFO in its main loop), so
// the daemon waits, bounded, for the file to appear.

/** How long the supervisor gets to open the new log file. */
export const REOPEN_LOG_TIMEOUT_MS = 5_000;
const POLL_MS = 5;

export async function waitForLogFile(containerId: string, logPath: string, timeoutMs = REOPEN_LOG_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fs.promises.access(logPath);
      return;
    } catch {
      // Not there yet.
    }
    if (Date.now() >= deadline) {
      throw new DeadlineExceededError(`the log of container ${containerId} was not reopened at ${logPath} within ${timeoutMs} ms`);
    }
    await delay(POLL_MS);
  }
}
