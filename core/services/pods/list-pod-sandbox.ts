import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { ListPodSandboxRequest__Output } from '../../cri/generated/runtime/v1/ListPodSandboxRequest';
import type { ListPodSandboxResponse } from '../../cri/generated/runtime/v1/ListPodSandboxResponse';
import type { SandboxService } from '../../tokens';
import { matchesLabels } from './label-filter';
import { podSandboxMessage } from './sandbox-messages';

/** ListPodSandbox: the sandboxes the filter picks (ID prefix, state, labels). */
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
