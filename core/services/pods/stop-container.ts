import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { StopContainerRequest__Output } from '../../cri/generated/runtime/v1/StopContainerRequest';
import type { StopContainerResponse } from '../../cri/generated/runtime/v1/StopContainerResponse';
import type { ContainerService } from '../../tokens';

/** StopContainer: the container's stop signal, SIGKILL once `timeout` seconds have passed (at once for 0); a stopped container is left be. */
export function stopContainerHandler(containers: ContainerService): UnaryCriHandler<StopContainerRequest__Output, StopContainerResponse> {
  return async (request) => {
    await containers.stop(request.container_id, Number(request.timeout));
    return {};
  };
}
