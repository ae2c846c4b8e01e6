import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { ContainerStatsRequest__Output } from '../../cri/generated/runtime/v1/ContainerStatsRequest';
import type { ContainerStatsResponse } from '../../cri/generated/runtime/v1/ContainerStatsResponse';
import type { ListContainerStatsRequest__Output } from '../../cri/generated/runtime/v1/ListContainerStatsRequest';
import type { ListContainerStatsResponse } from '../../cri/generated/runtime/v1/ListContainerStatsResponse';
import type { ListMetricDescriptorsRequest__Output } from '../../cri/generated/runtime/v1/ListMetricDescriptorsRequest';
import type { ListMetricDescriptorsResponse } from '../../cri/generated/runtime/v1/ListMetricDescriptorsResponse';
import type { ListPodSandboxMetricsRequest__Output } from '../../cri/generated/runtime/v1/ListPodSandboxMetricsRequest';
import type { ListPodSandboxMetricsResponse } from '../../cri/generated/runtime/v1/ListPodSandboxMetricsResponse';
import type { ListPodSandboxStatsRequest__Output } from '../../cri/generated/runtime/v1/ListPodSandboxStatsRequest';
import type { ListPodSandboxStatsResponse } from '../../cri/generated/runtime/v1/ListPodSandboxStatsResponse';
import type { PodSandboxStatsRequest__Output } from '../../cri/generated/runtime/v1/PodSandboxStatsRequest';
import type { PodSandboxStatsResponse } from '../../cri/generated/runtime/v1/PodSandboxStatsResponse';
import type { ContainerService } from '../../containers/container-service';
import { InvalidArgumentError } from '../../errors';
import type { SandboxService } from '../../pods/sandbox-service';
import { readContainerStats } from '../../stats/container-stats';
import { metricDescriptors, podSandboxMetrics } from '../../stats/metrics';
import { readPodSandboxStats, readPodSandboxStatsInput } from '../../stats/pod-stats';
import type { StatsSources } from '../../stats/stats-sources';
import { matchesLabels } from '../pods/label-filter';

// ContainerStats, ListContainerStats, PodSandboxStats, ListPodSandboxStats,
// ListMetricDescriptors, ListPodSandboxMetrics. IDs may be unique prefixes, as in every other
// RPC; an unknown ID is NOT_FOUND (from the services' get). List calls answer for containers in
// every state (an exited one with its attributes and writable layer) and for every sandbox.

export interface StatsHandlerDeps {
  readonly containers: ContainerService;
  readonly sandboxes: SandboxService;
  readonly sources: StatsSources;
}

export function containerStatsHandler({ containers, sources }: StatsHandlerDeps): UnaryCriHandler<ContainerStatsRequest__Output, ContainerStatsResponse> {
  return async (request) => {
    if (request.container_id === '') throw new InvalidArgumentError('ContainerStats needs a container_id');
    return { stats: await readContainerStats(containers.get(request.container_id), sources) };
  };
}

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

export function podSandboxStatsHandler({ containers, sandboxes, sources }: StatsHandlerDeps): UnaryCriHandler<PodSandboxStatsRequest__Output, PodSandboxStatsResponse> {
  return async (request) => {
    if (request.pod_sandbox_id === '') throw new InvalidArgumentError('PodSandboxStats needs a pod_sandbox_id');
    const sandbox = sandboxes.get(request.pod_sandbox_id);
    return { stats: await readPodSandboxStats(sandbox, containers.list(sandbox.id), sources) };
  };
}

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

export function listMetricDescriptorsHandler(): UnaryCriHandler<ListMetricDescriptorsRequest__Output, ListMetricDescriptorsResponse> {
  return async () => ({ descriptors: metricDescriptors() });
}

export function listPodSandboxMetricsHandler({ containers, sandboxes, sources }: StatsHandlerDeps): UnaryCriHandler<ListPodSandboxMetricsRequest__Output, ListPodSandboxMetricsResponse> {
  return async () => {
    const all = containers.list();
    // Metrics carry the cumulative counters only: reading them leaves the CPU rate baselines be.
    const pods = await Promise.all(sandboxes.list().map(async (s) => podSandboxMetrics(s, await readPodSandboxStatsInput(s, all, sources, false))));
    return { pod_metrics: pods };
  };
}

/** Drops the CPU rate baselines of containers and sandboxes that no longer exist. */
function forgetRemoved({ containers, sandboxes, sources }: StatsHandlerDeps): void {
  sources.cpuRates.retain([...containers.list().map((c) => c.id), ...sandboxes.list().map((s) => s.id)]);
}
