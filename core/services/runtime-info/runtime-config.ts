import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { RuntimeConfigRequest__Output } from '../../cri/generated/runtime/v1/RuntimeConfigRequest';
import type { RuntimeConfigResponse } from '../../cri/generated/runtime/v1/RuntimeConfigResponse';
import type { CgroupDriver } from '../../tokens';

/** RuntimeConfig: the cgroup driver bound for this daemon's lifetime, so kubelet can match it. */
export function runtimeConfigHandler(driver: CgroupDriver): UnaryCriHandler<RuntimeConfigRequest__Output, RuntimeConfigResponse> {
  return async () => ({ linux: { cgroup_driver: driver.criDriver } });
}
