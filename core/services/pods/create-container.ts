import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { CreateContainerRequest__Output } from '../../cri/generated/runtime/v1/CreateContainerRequest';
import type { CreateContainerResponse } from '../../cri/generated/runtime/v1/CreateContainerResponse';
import type { ContainerService } from '../../tokens';
import { InvalidArgumentError } from '../../errors';

/** CreateContainer: creates a container in a sandbox (not yet started) and answers its ID. */
export function createContainerHandler(containers: ContainerService): UnaryCriHandler<CreateContainerRequest__Output, CreateContainerResponse> {
  return async (request) => {
    if (!request.config) throw new InvalidArgumentError('CreateContainer needs a container config');
    const record = await containers.create(request.pod_sandbox_id, request.config, request.sandbox_config);
    return { container_id: record.id };
  };
}
