import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { ListPodSandboxStatsRequest__Output } from '../../cri/generated/runtime/v1/ListPodSandboxStatsRequest';
import type { ListPodSandboxStatsResponse } from '../../cri/generated/runtime/v1/ListPodSandboxStatsResponse';
import { readPodSandboxStats } from '../../stats/pod-stats';
import { matchesLabels } from '../pods/label-filter';
import { forgetRemoved, type StatsHandlerDeps } from './stats-handler-deps';

/** ListPodSandboxStats: the stats of the sandboxes the filter picks (ID prefix, labels). */
export function listPodSandboxStatsHandler(deps: StatsHandlerDeps): UnaryCriHandler<ListPodSandboxStatsRequest__Output, ListPodSandboxStatsResponse> {
  const { containers, sandboxes, sources } = deps;
  return async (request) => {
    const filter = request.filter;
    forgetRemoved(deps);
    const chosen = sandboxes
      .list()
      .filter((s) => !filter?.id || s.id.startsWith(filter.id))
      .filter((s) => matchesLabels(s.config.labels, filter?.label_selector));
    const all = containers.list();
    return { stats: await Promise.all(chosen.map((s) => readPodSandboxStats(s, all, sources))) };
  };
}
