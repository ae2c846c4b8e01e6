import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { ListContainersRequest__Output } from '../../cri/generated/runtime/v1/ListContainersRequest';
import type { ListContainersResponse } from '../../cri/generated/runtime/v1/ListContainersResponse';
import type { ContainerService } from '../../tokens';
import type { SandboxService } from '../../tokens';
import { containerMessage } from './container-messages';
import { matchesLabels } from './label-filter';

/** ListContainers: the containers the filter picks (pod, ID prefix, state, labels). */
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
