import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { ReopenContainerLogRequest__Output } from '../../cri/generated/runtime/v1/ReopenContainerLogRequest';
import type { ReopenContainerLogResponse } from '../../cri/generated/runtime/v1/ReopenContainerLogResponse';
import type { ContainerService } from '../../tokens';

/** ReopenContainerLog: has a running container's log written to a fresh file (after the kubelet rotated it). */
export function reopenContainerLogHandler(containers: ContainerService): UnaryCriHandler<ReopenContainerLogRequest__Output, ReopenContainerLogResponse> {
  return async (request) => {
    await containers.reopenLog(request.container_id);
    return {};
  };
}
