import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { ListMetricDescriptorsRequest__Output } from '../../cri/generated/runtime/v1/ListMetricDescriptorsRequest';
import type { ListMetricDescriptorsResponse } from '../../cri/generated/runtime/v1/ListMetricDescriptorsResponse';
import { metricDescriptors } from '../../stats/metrics';

/** ListMetricDescriptors: the cAdvisor-style metrics ListPodSandboxMetrics reports. */
export function listMetricDescriptorsHandler(): UnaryCriHandler<ListMetricDescriptorsRequest__Output, ListMetricDescriptorsResponse> {
  return async () => ({ descriptors: metricDescriptors() });
}
