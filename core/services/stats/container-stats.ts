import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { ContainerStatsRequest__Output } from '../../cri/generated/runtime/v1/ContainerStatsRequest';
import type { ContainerStatsResponse } from '../../cri/generated/runtime/v1/ContainerStatsResponse';
import { InvalidArgumentError } from '../../errors';
import { readContainerStats } from '../../stats/container-stats';
import type { StatsHandlerDeps } from './stats-handler-deps';

/** ContainerStats: one container's CPU, memory and swap (from its cgroup) and writable layer usage. */
export function containerStatsHandler({ containers, sources }: StatsHandlerDeps): UnaryCriHandler<ContainerStatsRequest__Output, ContainerStatsResponse> {
  return async (request) => {
    if (request.container_id === '') throw new InvalidArgumentError('ContainerStats needs a container_id');
    return { stats: await readContainerStats(containers.get(request.container_id), sources) };
  };
}
