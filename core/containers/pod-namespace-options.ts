import type { ContainerConfig__Output } from '../cri/generated/runtime/v1/ContainerConfig';
import type { SandboxRecord } from '../pods/sandbox-record';
import { emptySecurityContext } from './empty-configs';

/** A container that names no namespace options shares the pod's (as kubelet always spells out). */
export function withPodNamespaceOptions(config: ContainerConfig__Output, sandbox: SandboxRecord): ContainerConfig__Output {
  const own = config.linux?.security_context?.namespace_options;
  const pods = sandbox.config.linux?.security_context?.namespace_options;
  if (own || !pods) return config;
  const linux = config.linux ?? { resources: null, security_context: null };
  const securityContext = linux.security_context ?? emptySecurityContext();
  return { ...config, linux: { ...linux, security_context: { ...securityContext, namespace_options: pods } } };
}
