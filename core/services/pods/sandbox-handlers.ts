import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { ListPodSandboxRequest__Output } from '../../cri/generated/runtime/v1/ListPodSandboxRequest';
import type { ListPodSandboxResponse } from '../../cri/generated/runtime/v1/ListPodSandboxResponse';
import type { PodSandboxStatusRequest__Output } from '../../cri/generated/runtime/v1/PodSandboxStatusRequest';
import type { PodSandboxStatusResponse } from '../../cri/generated/runtime/v1/PodSandboxStatusResponse';
import type { RemovePodSandboxRequest__Output } from '../../cri/generated/runtime/v1/RemovePodSandboxRequest';
import type { RemovePodSandboxResponse } from '../../cri/generated/runtime/v1/RemovePodSandboxResponse';
import type { RunPodSandboxRequest__Output } from '../../cri/generated/runtime/v1/RunPodSandboxRequest';
import type { RunPodSandboxResponse } from '../../cri/generated/runtime/v1/RunPodSandboxResponse';
import type { StopPodSandboxRequest__Output } from '../../cri/generated/runtime/v1/StopPodSandboxRequest';
import type { StopPodSandboxResponse } from '../../cri/generated/runtime/v1/StopPodSandboxResponse';
import { InvalidArgumentError } from '../../errors';
import type { ContainerService } from '../../containers/container-service';
import type { SandboxService } from '../../pods/sandbox-service';
import { containerStatusMessage } from './container-messages';
import { matchesLabels } from './label-filter';
import { podSandboxMessage, podSandboxStatusMessage } from './sandbox-messages';
import { nowNanosText } from '../../clock/unix-nanos';

// RunPodSandbox, StopPodSandbox, RemovePodSandbox, PodSandboxStatus, ListPodSandbox.

export function runPodSandboxHandler(sandboxes: SandboxService): UnaryCriHandler<RunPodSandboxRequest__Output, RunPodSandboxResponse> {
  return async (request) => {
    if (!request.config) throw new InvalidArgumentError('RunPodSandbox needs a sandbox config');
    const record = await sandboxes.run(request.config, request.runtime_handler);
    return { pod_sandbox_id: record.id };
  };
}

export function stopPodSandboxHandler(sandboxes: SandboxService): UnaryCriHandler<StopPodSandboxRequest__Output, StopPodSandboxResponse> {
  return async (request) => {
    await sandboxes.stop(request.pod_sandbox_id);
    return {};
  };
}

export function removePodSandboxHandler(sandboxes: SandboxService): UnaryCriHandler<RemovePodSandboxRequest__Output, RemovePodSandboxResponse> {
  return async (request) => {
    await sandboxes.remove(request.pod_sandbox_id);
    return {};
  };
}

export function podSandboxStatusHandler(
  sandboxes: SandboxService,
  containers: ContainerService,
): UnaryCriHandler<PodSandboxStatusRequest__Output, PodSandboxStatusResponse> {
  return async (request) => {
    const record = sandboxes.get(request.pod_sandbox_id);
    const response: PodSandboxStatusResponse = {
      status: podSandboxStatusMessage(record),
      containers_statuses: containers.list(record.id).map(containerStatusMessage),
      timestamp: nowNanosText(),
    };
    if (request.verbose) {
      response.info = {
        info: JSON.stringify({
          namespaces: record.namespaces,
          pidHolder: record.pidHolder,
          cgroup: record.cgroup,
          files: record.files,
          runtime: record.runtimeName,
          ips: record.ips ?? [],
          networkCheck: await sandboxes.checkNetwork(record.id),
          config: record.config,
        }),
      };
    }
    return response;
  };
}

export function listPodSandboxHandler(sandboxes: SandboxService): UnaryCriHandler<ListPodSandboxRequest__Output, ListPodSandboxResponse> {
  return async (request) => {
    const filter = request.filter;
    const items = sandboxes
      .list()
      .filter((s) => !filter?.id || s.id.startsWith(filter.id))
      .filter((s) => !filter?.state || s.state === filter.state.state)
      .filter((s) => matchesLabels(s.config.labels, filter?.label_selector));
    return { items: items.map(podSandboxMessage) };
  };
}
