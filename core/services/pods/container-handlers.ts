import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { ContainerStatusRequest__Output } from '../../cri/generated/runtime/v1/ContainerStatusRequest';
import type { ContainerStatusResponse } from '../../cri/generated/runtime/v1/ContainerStatusResponse';
import type { CreateContainerRequest__Output } from '../../cri/generated/runtime/v1/CreateContainerRequest';
import type { CreateContainerResponse } from '../../cri/generated/runtime/v1/CreateContainerResponse';
import type { ListContainersRequest__Output } from '../../cri/generated/runtime/v1/ListContainersRequest';
import type { ListContainersResponse } from '../../cri/generated/runtime/v1/ListContainersResponse';
import type { RemoveContainerRequest__Output } from '../../cri/generated/runtime/v1/RemoveContainerRequest';
import type { RemoveContainerResponse } from '../../cri/generated/runtime/v1/RemoveContainerResponse';
import type { ReopenContainerLogRequest__Output } from '../../cri/generated/runtime/v1/ReopenContainerLogRequest';
import type { ReopenContainerLogResponse } from '../../cri/generated/runtime/v1/ReopenContainerLogResponse';
import type { StartContainerRequest__Output } from '../../cri/generated/runtime/v1/StartContainerRequest';
import type { StartContainerResponse } from '../../cri/generated/runtime/v1/StartContainerResponse';
import type { StopContainerRequest__Output } from '../../cri/generated/runtime/v1/StopContainerRequest';
import type { StopContainerResponse } from '../../cri/generated/runtime/v1/StopContainerResponse';
import type { UpdateContainerResourcesRequest__Output } from '../../cri/generated/runtime/v1/UpdateContainerResourcesRequest';
import type { UpdateContainerResourcesResponse } from '../../cri/generated/runtime/v1/UpdateContainerResourcesResponse';
import type { ContainerService } from '../../containers/container-service';
import type { SandboxService } from '../../pods/sandbox-service';
import { InvalidArgumentError } from '../../errors';
import { containerMessage, containerStatusMessage } from './container-messages';
import { matchesLabels } from './label-filter';

// CreateContainer, StartContainer, StopContainer, RemoveContainer, ContainerStatus,
// ListContainers, UpdateContainerResources, ReopenContainerLog.

export function createContainerHandler(containers: ContainerService): UnaryCriHandler<CreateContainerRequest__Output, CreateContainerResponse> {
  return async (request) => {
    if (!request.config) throw new InvalidArgumentError('CreateContainer needs a container config');
    const record = await containers.create(request.pod_sandbox_id, request.config, request.sandbox_config);
    return { container_id: record.id };
  };
}

export function startContainerHandler(containers: ContainerService): UnaryCriHandler<StartContainerRequest__Output, StartContainerResponse> {
  return async (request) => {
    await containers.start(request.container_id);
    return {};
  };
}

export function stopContainerHandler(containers: ContainerService): UnaryCriHandler<StopContainerRequest__Output, StopContainerResponse> {
  return async (request) => {
    await containers.stop(request.container_id, Number(request.timeout));
    return {};
  };
}

export function removeContainerHandler(containers: ContainerService): UnaryCriHandler<RemoveContainerRequest__Output, RemoveContainerResponse> {
  return async (request) => {
    await containers.remove(request.container_id);
    return {};
  };
}

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

export function listContainersHandler(containers: ContainerService, sandboxes: SandboxService): UnaryCriHandler<ListContainersRequest__Output, ListContainersResponse> {
  return async (request) => {
    const filter = request.filter;
    // The pod may be named by a prefix of its ID, as everywhere else.
    const podId = filter?.pod_sandbox_id ? sandboxes.find(filter.pod_sandbox_id)?.id : undefined;
    if (filter?.pod_sandbox_id && podId === undefined) return { containers: [] };
    const items = containers
      .list(podId)
      .filter((c) => !filter?.id || c.id.startsWith(filter.id))
      .filter((c) => !filter?.state || c.state === filter.state.state)
      .filter((c) => matchesLabels(c.config.labels, filter?.label_selector));
    return { containers: items.map(containerMessage) };
  };
}

export function updateContainerResourcesHandler(
  containers: ContainerService,
): UnaryCriHandler<UpdateContainerResourcesRequest__Output, UpdateContainerResourcesResponse> {
  return async (request) => {
    if (!request.linux) throw new InvalidArgumentError(`UpdateContainerResources for container ${request.container_id} carries no linux resources`);
    await containers.updateResources(request.container_id, request.linux);
    return {};
  };
}

export function reopenContainerLogHandler(containers: ContainerService): UnaryCriHandler<ReopenContainerLogRequest__Output, ReopenContainerLogResponse> {
  return async (request) => {
    await containers.reopenLog(request.container_id);
    return {};
  };
}
