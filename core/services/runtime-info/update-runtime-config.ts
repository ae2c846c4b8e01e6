import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { UpdateRuntimeConfigRequest__Output } from '../../cri/generated/runtime/v1/UpdateRuntimeConfigRequest';
import type { UpdateRuntimeConfigResponse } from '../../cri/generated/runtime/v1/UpdateRuntimeConfigResponse';
import type { Logger, MetadataStore } from '../../tokens';
import { parsePodCidrs } from './parse-pod-cidrs';

/** Metadata key under which the pod CIDR is kept for the network plugin (its ipRanges). */
export const POD_CIDR_KEY = 'pod-cidr';

/** UpdateRuntimeConfig: stores the node's pod CIDR durably; an empty CIDR changes nothing. */
export function updateRuntimeConfigHandler(
  store: MetadataStore,
  logger: Logger,
): UnaryCriHandler<UpdateRuntimeConfigRequest__Output, UpdateRuntimeConfigResponse> {
  return async (request) => {
    const cidr = request.runtime_config?.network_config?.pod_cidr ?? '';
    if (cidr === '') return {};
    const cidrs = parsePodCidrs(cidr);
    const value = cidrs.join(',');
    if (store.getMeta(POD_CIDR_KEY) !== value) {
      store.setMeta(POD_CIDR_KEY, value);
      logger.info('pod CIDR updated', { podCidr: value });
    }
    return {};
  };
}
