import type { PodSandboxConfig__Output } from '../cri/generated/runtime/v1/PodSandboxConfig';

// What the metadata store keeps of a sandbox: enough to answer status and list calls, to clean
// it up, and to find it again after a daemon restart.

export type SandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

export interface SandboxRecord {
  readonly id: string;
  /** name_namespace_uid_attempt: unique among sandboxes, as kubelet expects. */
  readonly key: string;
  readonly config: PodSandboxConfig__Output;
  readonly runtimeHandler: string;
  readonly runtimeName: string;
  /** Nanoseconds since the epoch, as a decimal string (int64 on the wire). */
  readonly createdAt: string;
  readonly state: SandboxState;
  /** The sandbox's state directory: pinned namespaces, pod files, shm. */
  readonly dir: string;
  readonly namespaces: {
    readonly network: string | 'host';
    readonly ipc: string | 'host';
    readonly uts: string | 'host';
    /** The holder's PID namespace, 'host', or absent when each container has its own. */
    readonly pid?: string | 'host';
  };
  /** What holds a pod-wide PID namespace: the small holder, or the pause container when `pod-sandbox-image` is set. */
  readonly pidHolder?: { readonly pid: number; readonly namespacePath: string };
  readonly pause?: PauseContainer;
  readonly cgroup: { readonly path: string; readonly madeByCaisson: boolean };
  /** The pod's IPs from the network plugin, primary first (empty on the host network or without one). */
  readonly ips?: readonly string[];
  readonly files: { readonly hostname: string; readonly hosts: string; readonly resolvConf: string; readonly shm: string };
  /** A StopPodSandbox or RemovePodSandbox that started and has not finished: recovery completes it. */
  readonly pending?: 'stop' | 'remove';
}

/** The pause container of a pod whose PID namespace it holds (core/pods/pause-container.ts). */
export interface PauseContainer {
  readonly id: string;
  /** The sandbox image's ID: an image a pause container runs cannot be removed. */
  readonly imageId: string;
  readonly pid: number;
  readonly runtimeName: string;
  readonly stateDir: string;
  readonly graphDir: string;
  readonly rootfs: string;
}
