import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { ListContainerStatsRequest__Output } from '../../cri/generated/runtime/v1/ListContainerStatsRequest';
import type { ListContainerStatsResponse } from '../../cri/generated/runtime/v1/ListContainerStatsResponse';
import { readContainerStats } from '../../stats/container-stats';
import { matchesLabels } from '../pods/label-filter';
import { forgetRemoved, type StatsHandlerDeps } from './stats-handler-deps';

/** ListContainerStats: the stats of the containers the filter picks (ID prefix, pod, labels). */
export function listContainerStatsHandler(deps: StatsHandlerDeps): UnaryCriHandler<ListContainerStatsRequest__Output, ListContainerStatsResponse> {
  const { containers, sandboxes, sources } = deps;
  return async (request) => {
    const filter = request.filter;
    const podId = filter?.pod_sandbox_id ? sandboxes.find(filter.pod_sandbox_id)?.id : undefined;
    if (filter?.pod_sandbox_id && podId === undefined) return { stats: [] };
    forgetRemoved(deps);
    const chosen = containers
      .list(podId)
      .filter((c) => !filter?.id || c.id.startsWith(filter.id))
      .filter((c) => matchesLabels(c.config.labels, filter?.label_selector));
    return { stats: await Promise.all(chosen.map((c) => readContainerStats(c, sources))) };
  };
}
