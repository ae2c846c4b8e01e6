import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { StartContainerRequest__Output } from '../../cri/generated/runtime/v1/StartContainerRequest';
import type { StartContainerResponse } from '../../cri/generated/runtime/v1/StartContainerResponse';
import type { ContainerService } from '../../tokens';

/** StartContainer: starts a created container. */
export function startContainerHandler(containers: ContainerService): UnaryCriHandler<StartContainerRequest__Output, StartContainerResponse> {
  return async (request) => {
    await containers.start(request.container_id);
    return {};
  };
}
