import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { RunPodSandboxRequest__Output } from '../../cri/generated/runtime/v1/RunPodSandboxRequest';
import type { RunPodSandboxResponse } from '../../cri/generated/runtime/v1/RunPodSandboxResponse';
import { InvalidArgumentError } from '../../errors';
import type { SandboxService } from '../../tokens';

/** RunPodSandbox: creates and starts a pod sandbox on the requested runtime handler and answers its ID. */
export function runPodSandboxHandler(sandboxes: SandboxService): UnaryCriHandler<RunPodSandboxRequest__Output, RunPodSandboxResponse> {
  return async (request) => {
    if (!request.config) throw new InvalidArgumentError('RunPodSandbox needs a sandbox config');
    const record = await sandboxes.run(request.config, request.runtime_handler);
    return { pod_sandbox_id: record.id };
  };
}
