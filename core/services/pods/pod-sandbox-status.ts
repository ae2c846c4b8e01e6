import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { PodSandboxStatusRequest__Output } from '../../cri/generated/runtime/v1/PodSandboxStatusRequest';
import type { PodSandboxStatusResponse } from '../../cri/generated/runtime/v1/PodSandboxStatusResponse';
import type { ContainerService } from '../../tokens';
import type { SandboxService } from '../../tokens';
import { containerStatusMessage } from './container-messages';
import { podSandboxStatusMessage } from './sandbox-messages';
import { nowNanosText } from '../../clock/unix-nanos';

/** PodSandboxStatus: the sandbox's status with its containers'; verbose adds the daemon's own facts as JSON. */
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
