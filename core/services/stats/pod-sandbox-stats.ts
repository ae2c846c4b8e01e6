import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { PodSandboxStatsRequest__Output } from '../../cri/generated/runtime/v1/PodSandboxStatsRequest';
import type { PodSandboxStatsResponse } from '../../cri/generated/runtime/v1/PodSandboxStatsResponse';
import { InvalidArgumentError } from '../../errors';
import { readPodSandboxStats } from '../../stats/pod-stats';
import type { StatsHandlerDeps } from './stats-handler-deps';

/** PodSandboxStats: one sandbox's stats with its containers'. */
export function podSandboxStatsHandler({ containers, sandboxes, sources }: StatsHandlerDeps): UnaryCriHandler<PodSandboxStatsRequest__Output, PodSandboxStatsResponse> {
  return async (request) => {
    if (request.pod_sandbox_id === '') throw new InvalidArgumentError('PodSandboxStats needs a pod_sandbox_id');
    const sandbox = sandboxes.get(request.pod_sandbox_id);
    return { stats: await readPodSandboxStats(sandbox, containers.list(sandbox.id), sources) };
  };
}
