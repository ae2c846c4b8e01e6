import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { VersionRequest__Output } from '../../cri/generated/runtime/v1/VersionRequest';
import type { VersionResponse } from '../../cri/generated/runtime/v1/VersionResponse';
import type { DaemonInfo } from '../../tokens';

/** The version of the kubelet runtime API that CRI has always reported (as containerd does). */
const KUBELET_RUNTIME_API_VERSION = '0.1.0';

/** Version: runtime name and version, and the CRI version the caller spoke (v1 or v1alpha2). */
export function versionHandler(info: DaemonInfo): UnaryCriHandler<VersionRequest__Output, VersionResponse> {
  return async (_request, call) => ({
    version: KUBELET_RUNTIME_API_VERSION,
    runtime_name: 'caisson',
    runtime_version: info.version,
    runtime_api_version: call.apiVersion,
  });
}
