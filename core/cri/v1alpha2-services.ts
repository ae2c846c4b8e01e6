import type * as grpc from '@grpc/grpc-js';
import { loadCriServices } from './cri-proto';

// runtime.v1alpha2 as the server adds it: every method's path, with codecs that parse
// runtime/v1alpha2/api.proto on the first v1alpha2 call rather than at start-up. Kubelets since
// 1.26 speak v1 only, yet the parsed proto kept about 0.8 MiB of heap for the daemon's life.
// grpc-js needs only a method's path, its streaming flags and its four codecs when a service is
// added, so the methods are listed here; v1alpha2 is frozen upstream, and a unit test checks
// this list against the proto. Once parsed, the codecs are proto-loader's own, as before.

export const V1ALPHA2_METHODS = {
  RuntimeService: [
    'Version', 'RunPodSandbox', 'StopPodSandbox', 'RemovePodSandbox', 'PodSandboxStatus', 'ListPodSandbox',
    'CreateContainer', 'StartContainer', 'StopContainer', 'RemoveContainer', 'ListContainers', 'ContainerStatus',
    'UpdateContainerResources', 'ReopenContainerLog', 'ExecSync', 'Exec', 'Attach', 'PortForward', 'ContainerStats',
    'ListContainerStats', 'PodSandboxStats', 'ListPodSandboxStats', 'UpdateRuntimeConfig', 'Status',
  ],
  ImageService: ['ListImages', 'ImageStatus', 'PullImage', 'RemoveImage', 'ImageFsInfo'],
} as const;

export type V1alpha2ServiceName = keyof typeof V1ALPHA2_METHODS;

/** The two v1alpha2 services; every v1alpha2 RPC is unary. */
export function lazyV1alpha2Services(): Record<V1alpha2ServiceName, grpc.ServiceDefinition> {
  return {
    RuntimeService: lazyService('RuntimeService'),
    ImageService: lazyService('ImageService'),
  };
}

function lazyService(service: V1alpha2ServiceName): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of V1ALPHA2_METHODS[service]) {
    const parsed = (): grpc.MethodDefinition<unknown, unknown> => {
      const real = loadCriServices('v1alpha2')[service].service[method];
      if (!real) throw new Error(`runtime/v1alpha2/api.proto has no ${service}.${method}`);
      return real;
    };
    definition[method] = {
      path: `/runtime.v1alpha2.${service}/${method}`,
      requestStream: false,
      responseStream: false,
      // As proto-loader names it (lodash.camelCase of the method); grpc-js falls back to it.
      originalName: method.charAt(0).toLowerCase() + method.slice(1),
      requestSerialize: (value: unknown) => parsed().requestSerialize(value),
      requestDeserialize: (bytes: Buffer) => parsed().requestDeserialize(bytes),
      responseSerialize: (value: unknown) => parsed().responseSerialize(value),
      responseDeserialize: (bytes: Buffer) => parsed().responseDeserialize(bytes),
    };
  }
  return definition;
}
