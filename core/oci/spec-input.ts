// What the OCI spec builder is given: the CRI config, the pod sandbox, the image, and everything
// that depends on the host (paths of the pod's namespaces, realpath of a bind-mount source, stat
// of a device node, a Localhost seccomp profile file). The host parts come in as facts and small
// readers so that every concern of the builder stays pure and is tested without root.

import type { ContainerConfig__Output } from '../cri/generated/runtime/v1/ContainerConfig';
import type { PodSandboxConfig__Output } from '../cri/generated/runtime/v1/PodSandboxConfig';
import type { ImageConfig } from '../images/media-types';
import type { ImageUsers } from './image-users';

/** The runtime part of an OCI image config: User, Env, Entrypoint, Cmd, WorkingDir, StopSignal. */
export type ImageRuntimeConfig = NonNullable<ImageConfig['config']>;

/** The image a container runs; `name` appears in messages and annotations. */
export interface SpecImage {
  readonly id: string;
  readonly name: string;
  readonly config: ImageRuntimeConfig;
}

export interface DeviceNode {
  readonly type: 'c' | 'b';
  readonly major: number;
  readonly minor: number;
  readonly fileMode: number;
  readonly uid: number;
  readonly gid: number;
}

export interface HostPaths {
  /** realpath of a bind-mount source (symlinks followed); may throw if it cannot be resolved. */
  resolve(path: string): string;
  /** stat of a device node; undefined when the path is not a character or block device. */
  device(path: string): DeviceNode | undefined;
}

export interface SeccompProfiles {
  /** Reads and parses a Localhost profile file; throws if it is missing or not JSON. */
  localhost(ref: string): unknown;
}

export interface ContainerSpecInput {
  readonly containerId: string;
  /** metadata.name, for messages */
  readonly containerName: string;
  readonly config: ContainerConfig__Output;
  readonly sandboxConfig: PodSandboxConfig__Output;
  readonly sandbox: SandboxFacts;
  readonly image: SpecImage;
  /** Parsed from the image rootfs /etc/passwd and /etc/group (empty when absent). */
  readonly imageUsers: ImageUsers;
  readonly rootfsPath: string;
  /** Already computed by the cgroup driver. */
  readonly cgroupsPath: string;
  readonly host: HostFacts;
  readonly hostPaths: HostPaths;
  readonly seccompProfiles: SeccompProfiles;
}

export interface SandboxFacts {
  readonly id: string;
  readonly hostname: string;
  /** Paths of the pod's pinned namespaces, or 'host'. pid: the pod holder's pid ns path, 'host', or undefined when the pod has no shared pid namespace. */
  readonly namespaces: {
    readonly network: string | 'host';
    readonly ipc: string | 'host';
    readonly uts: string | 'host';
    readonly pid?: string | 'host';
  };
  /** Host paths bind-mounted at /etc/hostname, /etc/hosts, /etc/resolv.conf, /dev/shm. */
  readonly files: { readonly hostname: string; readonly hosts: string; readonly resolvConf: string; readonly shm: string };
  /** For NamespaceMode TARGET: the target container's /proc/<pid>/ns/pid, or undefined if not running. */
  readonly targetPidNamespace?: (containerId: string) => string | undefined;
}

export interface HostFacts {
  /** Capabilities the daemon holds (its bounding set), e.g. 'CAP_CHOWN'; privileged containers get exactly these. */
  readonly capabilities: readonly string[];
  /** The daemon's own oom_score_adj: a lower requested value is raised to it. */
  readonly oomScoreAdj: number;
  readonly appArmorEnabled: boolean;
  /**
   * Whether the default profile (caisson-default) is loaded in the kernel. Nothing in Caisson
   * loads it yet, so where it is absent a container runs without an AppArmor profile rather than
   * failing in runc.
   */
  readonly appArmorDefaultLoaded?: boolean;
  readonly cgroupVersion: 'v1' | 'hybrid' | 'v2';
  /** Device node paths under /dev, for privileged containers. */
  readonly hostDevices: readonly string[];
  /** Node's process.arch; narrows the RuntimeDefault seccomp architectures. Both x86 and arm when absent. */
  readonly arch?: string;
}
