import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { UpdateContainerResourcesRequest__Output } from '../../cri/generated/runtime/v1/UpdateContainerResourcesRequest';
import type { UpdateContainerResourcesResponse } from '../../cri/generated/runtime/v1/UpdateContainerResourcesResponse';
import type { ContainerService } from '../../tokens';
import { InvalidArgumentError } from '../../errors';

/** UpdateContainerResources: applies new Linux resources (cgroup limits) to a created or running container. */
export function updateContainerResourcesHandler(
  containers: ContainerService,
): UnaryCriHandler<UpdateContainerResourcesRequest__Output, UpdateContainerResourcesResponse> {
  return async (request) => {
    if (!request.linux) throw new InvalidArgumentError(`UpdateContainerResources for container ${request.container_id} carries no linux resources`);
    await containers.updateResources(request.container_id, request.linux);
    return {};
  };
}
