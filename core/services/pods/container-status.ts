import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { ContainerStatusRequest__Output } from '../../cri/generated/runtime/v1/ContainerStatusRequest';
import type { ContainerStatusResponse } from '../../cri/generated/runtime/v1/ContainerStatusResponse';
import type { ContainerService } from '../../tokens';
import { containerStatusMessage } from './container-messages';

/** ContainerStatus: the container's status; verbose adds the daemon's own facts as JSON. */
export function containerStatusHandler(containers: ContainerService): UnaryCriHandler<ContainerStatusRequest__Output, ContainerStatusResponse> {
  return async (request) => {
    const record = containers.get(request.container_id);
    const response: ContainerStatusResponse = { status: containerStatusMessage(record) };
    if (request.verbose) {
      response.info = {
        info: JSON.stringify({ pid: record.pid, sandboxId: record.sandboxId, runtime: record.runtimeName, cgroupsPath: record.cgroupsPath, paths: record.paths, config: record.config }),
      };
    }
    return response;
  };
}
