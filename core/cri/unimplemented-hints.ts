import type { DaemonConfig } from '../../config/daemon-config-schema';

// What an operator needs to hear when an RPC has no handler: what would enable it. As features
// land, their RPCs get handlers and leave this table's reach.

const POD_AND_CONTAINER_RPCS = new Set([
  'RunPodSandbox', 'StopPodSandbox', 'RemovePodSandbox', 'PodSandboxStatus', 'ListPodSandbox',
  'CreateContainer', 'StartContainer', 'StopContainer', 'RemoveContainer', 'ListContainers',
  'ContainerStatus', 'ReopenContainerLog',
]);
const CONTAINER_OPERATION_RPCS = new Set([
  'ExecSync', 'UpdateContainerResources', 'ContainerStats', 'ListContainerStats', 'PodSandboxStats',
  'ListPodSandboxStats', 'ListMetricDescriptors', 'ListPodSandboxMetrics',
]);
const STREAMING_RPCS = new Set(['Exec', 'Attach', 'PortForward']);
const IMAGE_RPCS = new Set(['ListImages', 'ImageStatus', 'PullImage', 'RemoveImage', 'ImageFsInfo', 'PullImageWithProgress']);

export function unimplementedMessage(rpc: string, config: DaemonConfig): string {
  return `${rpc} is not implemented by this caissond: ${hintFor(rpc, config)}`;
}

function hintFor(rpc: string, config: DaemonConfig): string {
  if (rpc === 'GetContainerEvents') {
    return config.enablePodEvents
      ? 'no loaded plugin provides pod lifecycle events ("enable-pod-events" is true, but this build has no pod-events plugin)'
      : 'pod lifecycle events are off; set "enable-pod-events": true in daemon.json and restart caissond';
  }
  if (rpc === 'CheckpointContainer') return 'checkpointing is off: set "enable-criu-support": true in daemon.json (it needs CRIU), or load a plugin that contributes CheckpointContainer';
  if (IMAGE_RPCS.has(rpc)) return 'no loaded plugin provides the image service (built in as image.images)';
  if (POD_AND_CONTAINER_RPCS.has(rpc)) return 'no loaded plugin provides pods and containers (built in as service.pods)';
  if (CONTAINER_OPERATION_RPCS.has(rpc)) return 'no loaded plugin provides container operations (built in as service.exec and service.stats)';
  if (STREAMING_RPCS.has(rpc)) return 'no loaded plugin provides the streaming server (built in as service.streaming)';
  return 'no loaded plugin contributes a handler for it';
}
