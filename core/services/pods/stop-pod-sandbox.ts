import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { StopPodSandboxRequest__Output } from '../../cri/generated/runtime/v1/StopPodSandboxRequest';
import type { StopPodSandboxResponse } from '../../cri/generated/runtime/v1/StopPodSandboxResponse';
import type { SandboxService } from '../../tokens';

/** StopPodSandbox: stops the sandbox and every container in it. */
export function stopPodSandboxHandler(sandboxes: SandboxService): UnaryCriHandler<StopPodSandboxRequest__Output, StopPodSandboxResponse> {
  return async (request) => {
    await sandboxes.stop(request.pod_sandbox_id);
    return {};
  };
}
