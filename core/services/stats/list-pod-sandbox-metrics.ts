import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { ListPodSandboxMetricsRequest__Output } from '../../cri/generated/runtime/v1/ListPodSandboxMetricsRequest';
import type { ListPodSandboxMetricsResponse } from '../../cri/generated/runtime/v1/ListPodSandboxMetricsResponse';
import { podSandboxMetrics } from '../../stats/metrics';
import { readPodSandboxStatsInput } from '../../stats/pod-stats';
import type { StatsHandlerDeps } from './stats-handler-deps';

/** ListPodSandboxMetrics: cAdvisor-style metrics of every sandbox and its containers. */
export function listPodSandboxMetricsHandler({ containers, sandboxes, sources }: StatsHandlerDeps): UnaryCriHandler<ListPodSandboxMetricsRequest__Output, ListPodSandboxMetricsResponse> {
  return async () => {
    const all = containers.list();
    // Metrics carry the cumulative counters only: reading them leaves the CPU rate baselines be.
    const pods = await Promise.all(sandboxes.list().map(async (s) => podSandboxMetrics(s, await readPodSandboxStatsInput(s, all, sources, false))));
    return { pod_metrics: pods };
  };
}
