import type { ContainerService } from '../../tokens';
import { execSync, type ExecSyncLimits } from '../../containers/exec-sync';
import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { ExecSyncRequest__Output } from '../../cri/generated/runtime/v1/ExecSyncRequest';
import type { ExecSyncResponse } from '../../cri/generated/runtime/v1/ExecSyncResponse';
import { InvalidArgumentError } from '../../errors';
import type { RuntimeRegistry } from '../../tokens';

// ExecSync: runs a command in a running container and answers with its output (each stream
// capped) and exit code; DEADLINE_EXCEEDED after a positive `timeout`, and the command is killed
// when the client goes away.

export function execSyncHandler(
  containers: ContainerService,
  runtimes: RuntimeRegistry,
  limits: Omit<ExecSyncLimits, 'signal'> = {},
): UnaryCriHandler<ExecSyncRequest__Output, ExecSyncResponse> {
  return async (request, call) => {
    const timeout = parseExecTimeout(request.timeout);
    const record = containers.get(request.container_id);
    const runtime = runtimes.forHandler(record.runtimeName);
    const result = await execSync(runtime, record, request.cmd, timeout, { ...limits, signal: call.signal });
    return { stdout: result.stdout, stderr: result.stderr, exit_code: result.exitCode };
  };
}

/** The request's int64 `timeout` (a decimal string): whole seconds, 0 for none. */
export function parseExecTimeout(text: string): number {
  const value = text.trim() === '' ? '0' : text.trim();
  const seconds = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(seconds)) {
    throw new InvalidArgumentError(`ExecSync timeout must be 0 (none) or a positive number of seconds, not ${text}`);
  }
  return seconds;
}
