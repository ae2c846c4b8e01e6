// How much of a command's stdout and stderr one ExecSync answer keeps. The kubelet's CRI client
// accepts messages of at most 16 MiB, so the whole ExecSyncResponse (both streams, their field
// framing and the exit code) must fit in 16 MiB, or the kubelet gets RESOURCE_EXHAUSTED instead
// of the output. The two streams share that budget: each may keep up to half, and what one does
// not use the other may take, so a probe that floods stdout still shows its error on stderr.

/** The kubelet's CRI message limit (both directions), which an ExecSync answer must fit in. */
export const KUBELET_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/**
 * Bytes of the answer that are not output: a tag and a length varint for each stream (at most
 * 1 + 4 bytes each below 256 MiB) and the exit code (a tag and a varint of at most 10 bytes),
 * rounded up.
 */
export const EXEC_SYNC_FRAMING_BYTES = 32;

/** Most bytes of stdout and stderr together that an ExecSync answer carries. */
export const EXEC_SYNC_MAX_OUTPUT_BYTES = KUBELET_MAX_MESSAGE_BYTES - EXEC_SYNC_FRAMING_BYTES;

/** How many bytes of each stream to keep, given how many each produced (at least up to `budget`). */
export function splitOutputBudget(stdoutBytes: number, stderrBytes: number, budget = EXEC_SYNC_MAX_OUTPUT_BYTES): { stdout: number; stderr: number } {
  if (stdoutBytes + stderrBytes <= budget) return { stdout: stdoutBytes, stderr: stderrBytes };
  const half = Math.floor(budget / 2);
  if (stderrBytes <= half) return { stdout: budget - stderrBytes, stderr: stderrBytes };
  if (stdoutBytes <= half) return { stdout: stdoutBytes, stderr: budget - stdoutBytes };
  return { stdout: budget - half, stderr: half };
}
