import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { RemovePodSandboxRequest__Output } from '../../cri/generated/runtime/v1/RemovePodSandboxRequest';
import type { RemovePodSandboxResponse } from '../../cri/generated/runtime/v1/RemovePodSandboxResponse';
import type { SandboxService } from '../../tokens';

/** RemovePodSandbox: stops the sandbox, then removes it and its containers; an unknown ID is no error (CRI asks for idempotence). */
export function removePodSandboxHandler(sandboxes: SandboxService): UnaryCriHandler<RemovePodSandboxRequest__Output, RemovePodSandboxResponse> {
  return async (request) => {
    await sandboxes.remove(request.pod_sandbox_id);
    return {};
  };
}
