import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { RemoveContainerRequest__Output } from '../../cri/generated/runtime/v1/RemoveContainerRequest';
import type { RemoveContainerResponse } from '../../cri/generated/runtime/v1/RemoveContainerResponse';
import type { ContainerService } from '../../tokens';

/** RemoveContainer: stops the container if it runs, then removes it; an unknown ID is no error (CRI asks for idempotence). */
export function removeContainerHandler(containers: ContainerService): UnaryCriHandler<RemoveContainerRequest__Output, RemoveContainerResponse> {
  return async (request) => {
    await containers.remove(request.container_id);
    return {};
  };
}
