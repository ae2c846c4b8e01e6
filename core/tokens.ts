import type { DaemonConfig as DaemonConfigShape } from '../config/daemon-config-schema';
import type { Logger as LoggerShape } from './log/logger';
import type { MetadataStore as MetadataStoreShape } from './store/metadata-store';
import type { RuntimeRegistry as RuntimeRegistryShape } from './runtime/runtime-registry';
import type { ImageService as ImageServiceShape } from './images/image-service';
import type { ContainerService as ContainerServiceShape } from './containers/container-service';
import type { SandboxService as SandboxServiceShape } from './pods/sandbox-service';
import type { EventBus as EventBusShape } from './events/event-bus';

// Injection tokens, each beside the interface of the same name, so `@inject(CgroupDriver)
// driver: CgroupDriver` reads as one thing. Bindings are made per daemon in its own child
// container (core/daemon/create-daemon.ts); nothing registers on import.

/** The effective daemon configuration (daemon.json with defaults filled in). */
export type DaemonConfig = DaemonConfigShape;
export const DaemonConfig: unique symbol = Symbol('DaemonConfig');

/** The daemon's logger; plugins get a child named after them in their context. */
export type Logger = LoggerShape;
export const Logger: unique symbol = Symbol('Logger');

/** The transactional metadata store under `graph` (sandboxes, containers, daemon facts). */
export type MetadataStore = MetadataStoreShape;
export const MetadataStore: unique symbol = Symbol('MetadataStore');

/** Every OCI runtime the runtime plugins registered, by name (`runtimes` in daemon.json). */
export type RuntimeRegistry = RuntimeRegistryShape;
export const RuntimeRegistry: unique symbol = Symbol('RuntimeRegistry');

/** The value CRI's RuntimeConfig reports for a driver. */
export type CriCgroupDriver = 'SYSTEMD' | 'CGROUPFS';

/**
 * The cgroup driver: exactly one is bound per daemon, once, by the cgroupfs or the systemd plugin
 * as `systemd-cgroup` chooses. Pods and containers get their cgroups through it.
 */
export interface CgroupDriver {
  /** The driver's name as persisted in the driver lock: "cgroupfs" or "systemd". */
  readonly name: 'cgroupfs' | 'systemd';
  /** What RuntimeConfig answers the kubelet. */
  readonly criDriver: CriCgroupDriver;
  /** Facts for `Status` verbose info and `caisson info` (cgroup version, mount point, …). */
  describe(): Record<string, string>;
  /**
   * The pod's cgroup: the CRI `cgroup_parent` after validation (INVALID_ARGUMENT naming it when
   * it is not of this driver's form), or a default under daemon.json `cgroup-parent`.
   */
  podCgroup(sandboxId: string, criCgroupParent: string): { readonly path: string; readonly madeByCaisson: boolean };
  /** The runtime's cgroupsPath for a container of a pod. */
  containerCgroupsPath(podCgroup: string, containerId: string): string;
  /** Directories of a cgroup on disk, one per mounted hierarchy (v1) or one (v2). */
  cgroupDirs(cgroupsPath: string): string[];
  /** Removes a pod cgroup Caisson made, once its containers are gone. */
  removePodCgroup(podCgroup: string): Promise<void>;
  /** Usage read from a cgroup's files (v1 or v2), or undefined when the cgroup is gone. */
  readStats(cgroupsPath: string): Promise<CgroupStats | undefined>;
  /**
   * Moves a container's supervisor (conmon, before it starts the container) into a cgroup of its
   * own under the pod's, so the container's cgroup holds container processes only. Optional:
   * without it the supervisor stays in the daemon's cgroup.
   */
  placeSupervisor?(pid: number, containerId: string, podCgroup: string): Promise<void>;
  /** Releases what the driver keeps for a removed container (systemd: leftover scopes). */
  releaseContainer?(containerId: string): Promise<void>;
}

/** What a cgroup says of its processes' use of CPU, memory and pids. */
export interface CgroupStats {
  /** Nanoseconds since the epoch when the files were read. */
  readonly timestampNanos: bigint;
  /** Cumulative CPU time of all cores, nanoseconds. */
  readonly cpuUsageNanos: bigint;
  readonly memory: {
    readonly usageBytes: number;
    /** Usage minus inactive file pages: what kubelet evicts on. */
    readonly workingSetBytes: number;
    readonly rssBytes: number;
    readonly pageFaults: number;
    readonly majorPageFaults: number;
    /** The limit, or undefined when unlimited. */
    readonly limitBytes: number | undefined;
    /** Swap in use and its limit, when the host accounts swap (undefined otherwise). */
    readonly swapUsageBytes: number | undefined;
    readonly swapLimitBytes: number | undefined;
  };
  readonly pids: number;
}
export const CgroupDriver: unique symbol = Symbol('CgroupDriver');

/** Readiness of one part of the node, as CRI's RuntimeCondition carries it. */
export interface Readiness {
  readonly ready: boolean;
  readonly reason: string;
  readonly message: string;
}

/** What the network plugin is told about a pod it wires or unwires. */
export interface PodNetworkRequest {
  readonly sandboxId: string;
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  /** The pod's pinned network namespace file. */
  readonly netnsPath: string;
  readonly portMappings: readonly { readonly protocol: string; readonly containerPort: number; readonly hostPort: number; readonly hostIp: string }[];
  /** The node's pod CIDR(s) from UpdateRuntimeConfig, comma-separated, or "". */
  readonly podCidr: string;
}

/**
 * The pod network plugin (CNI): wires a pod's network namespace when the sandbox starts and
 * unwires it when the sandbox stops. Host-network pods never reach it. Optional: without one,
 * pods have loopback only and Status says NetworkReady false.
 */
export interface NetworkPlugin {
  readonly name: string;
  status(): Promise<Readiness>;
  /** Wires the pod (CNI ADD) and answers its IPs, primary first; undoes its own partial work on failure. */
  setUpPod(pod: PodNetworkRequest): Promise<{ readonly ips: readonly string[] }>;
  /** Unwires the pod (CNI DEL); safe to repeat, and tried even after a failed or partial ADD. */
  tearDownPod(pod: PodNetworkRequest): Promise<void>;
  /** Verifies the pod's wiring (CNI CHECK) where the network asks for it; answers what was found, throws on failure. */
  checkPod?(pod: PodNetworkRequest): Promise<string>;
}
export const NetworkPlugin: unique symbol = Symbol('NetworkPlugin');

/** Facts about the running daemon for Version, Status verbose info and `caisson info`. */
export interface DaemonInfo {
  readonly version: string;
  readonly startedAt: Date;
  /** Identities of the enabled plugins, in init order. */
  readonly plugins: readonly string[];
  /** RPC → contributing plugin (filled as plugins start). */
  handlerOwners(): Record<string, string>;
}
export const DaemonInfo: unique symbol = Symbol('DaemonInfo');

/** Images: pull, look up, remove; the container service asks it for configs and layers. */
export type ImageService = ImageServiceShape;
export const ImageService: unique symbol = Symbol('ImageService');

/** Pod sandboxes: run, stop, remove, look up (bound by service.pods). */
export type SandboxService = SandboxServiceShape;
export const SandboxService: unique symbol = Symbol('SandboxService');

/** Containers: create, start, stop, remove, look up (bound by service.pods). */
export type ContainerService = ContainerServiceShape;
export const ContainerService: unique symbol = Symbol('ContainerService');

/** Lifecycle events of containers and sandboxes, published by the services (bound by the core). */
export type EventBus = EventBusShape;
export const EventBus: unique symbol = Symbol('EventBus');

/** What the pod events plugin tells metrics: open GetContainerEvents streams, overflows, events sent (bound by events.pod-events). */
export interface PodEventsStats {
  subscribers(): number;
  overflows(): number;
  published(): number;
}
export const PodEventsStats: unique symbol = Symbol('PodEventsStats');
