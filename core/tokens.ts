import type Database from 'better-sqlite3';
import type { DaemonConfig as DaemonConfigShape } from '../config/daemon-config-schema';
import type { ContainerRecord } from './containers/container-record';
import type { ContainerConfig__Output } from './cri/generated/runtime/v1/ContainerConfig';
import type { LinuxContainerResources__Output } from './cri/generated/runtime/v1/LinuxContainerResources';
import type { PodSandboxConfig__Output } from './cri/generated/runtime/v1/PodSandboxConfig';
import type { ImageFsUsage, ImageRecord, PullProgress } from './images/image-types';
import type { RegistryCredentials } from './images/registry/registry-credentials';
import type { SandboxRecord } from './pods/sandbox-record';
import type { OciRuntime } from './runtime/oci-runtime';
import type { Readiness } from './runtime/readiness';
import { defineToken } from './plugin/token';

// The contracts between the core, the built-in plugins and third-party plugins: each injection
// token beside the interface of the same name, so `@inject(CgroupDriver) driver: CgroupDriver`
// reads as one thing. This file imports types only, and never an implementation: the
// implementations import it.
//
// Tokens are `Symbol.for('caisson.<name>')`, registered in the process-wide symbol table, so a
// plugin that bundles its own copy of Caisson's API still names the same binding.
// Bindings are made per daemon in its own child container (core/daemon/create-daemon.ts) or by
// the plugin that declares the token in its manifest's `provides`; nothing registers on import.

/** The effective daemon configuration (daemon.json with defaults filled in). Bound by the core. */
export type DaemonConfig = DaemonConfigShape;
export const DaemonConfig = defineToken<DaemonConfig>('DaemonConfig');

/** A structured logger; plugins get a child named after them in their context. Bound by the core. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger whose lines name `component` (for example a plugin's identity). */
  child(component: string): Logger;
}
export const Logger = defineToken<Logger>('Logger');

/**
 * The transactional metadata store under `graph`: records are JSON documents keyed by ID, each
 * write on disk before the call returns. Bound by the core.
 */
export interface MetadataStore {
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
  putSandbox(id: string, record: object): void;
  deleteSandbox(id: string): void;
  putContainer(id: string, sandboxId: string, record: object): void;
  deleteContainer(id: string): void;
  getSandbox<T>(id: string): T | undefined;
  listSandboxes<T>(): T[];
  getContainer<T>(id: string): T | undefined;
  listContainers<T>(sandboxId?: string): T[];
  sandboxIds(): string[];
  containerIds(): string[];
  /** IDs of the containers whose record names this image (so it is not removed under them). */
  containersUsingImage(imageId: string): string[];
  /** Runs `work` in one transaction: every write in it is durable together, or none is. */
  transaction<T>(work: () => T): T;
  /** The SQLite connection, for stores of the core's own tables (images). */
  readonly connection: Database.Database;
  /** A statement on that connection, prepared once and kept (preparing costs more than running). */
  statement(sql: string): Database.Statement;
  /** Resolves once every write made so far is on disk (the CRI server awaits it before answering). */
  flush(): Promise<void>;
  close(): void;
}
export const MetadataStore = defineToken<MetadataStore>('MetadataStore');

/**
 * Every OCI runtime the runtime plugins registered, by name (`runtimes` in daemon.json), and
 * the CRI runtime handler mapping of `cri-runtimes`. Bound by the core; runtime plugins register
 * into it during their init.
 */
export interface RuntimeRegistry {
  /** Adds a runtime; a second runtime of the same name fails naming both plugins. */
  register(plugin: string, runtime: OciRuntime): void;
  names(): string[];
  /** The runtime named by `default-runtime`. */
  defaultOne(): OciRuntime;
  /** The runtime for a CRI runtime handler: "" is the default, else `cri-runtimes`, else a runtime name. */
  forHandler(handler: string): OciRuntime;
}
export const RuntimeRegistry = defineToken<RuntimeRegistry>('RuntimeRegistry');

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
  /**
   * The same cgroup, made ready for the supervisor to join by itself: the `cgroup.procs` files
   * it writes its own pid to before it runs. A driver that offers it (cgroupfs) spares the
   * runtime the wait for a placement (placeSupervisor stays for drivers that must be told the
   * pid, as systemd's transient scopes are).
   */
  supervisorCgroupProcs?(containerId: string, podCgroup: string): string[];
  /** Releases what the driver keeps for a removed container (systemd: leftover scopes). */
  releaseContainer?(containerId: string): Promise<void>;
}
export const CgroupDriver = defineToken<CgroupDriver>('CgroupDriver');

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

export type { Readiness } from './runtime/readiness';

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
export const NetworkPlugin = defineToken<NetworkPlugin>('NetworkPlugin');

/** Facts about the running daemon for Version, Status verbose info and `caisson info`. Bound by the core. */
export interface DaemonInfo {
  readonly version: string;
  readonly startedAt: Date;
  /** Identities of the enabled plugins, in init order. */
  readonly plugins: readonly string[];
  /** RPC → contributing plugin (filled as plugins start). */
  handlerOwners(): Record<string, string>;
}
export const DaemonInfo = defineToken<DaemonInfo>('DaemonInfo');

/** Images: pull, look up, remove; the container service asks it for configs and layers. */
export interface ImageService {
  /** Pulls (or finds in flight) an image and answers its record once it is complete on disk. */
  pull(reference: string, credentials: RegistryCredentials, progress?: PullProgress): Promise<ImageRecord>;
  /** By reference, ID or unique ID prefix; undefined when no image matches. */
  find(text: string): ImageRecord | undefined;
  list(): ImageRecord[];
  /** The tags and digests that name an image. */
  references(id: string): { repoTags: string[]; repoDigests: string[] };
  /** The image's layer snapshots, top first, as overlay lower directories. */
  lowerDirs(image: ImageRecord): string[];
  /** Removes an image (FAILED_PRECONDITION while a container uses it), holding `image:<id>` exclusively. */
  remove(text: string): Promise<void>;
  /** What the image store uses on disk. */
  fsUsage(): Promise<ImageFsUsage>;
}
export const ImageService = defineToken<ImageService>('ImageService');

/** Pod sandboxes: run, stop, remove, look up (bound by service.pods). */
export interface SandboxService {
  run(config: PodSandboxConfig__Output, runtimeHandler: string): Promise<SandboxRecord>;
  /** By full ID or a unique prefix; NOT_FOUND otherwise. */
  get(id: string): SandboxRecord;
  find(id: string): SandboxRecord | undefined;
  list(): SandboxRecord[];
  stop(id: string): Promise<void>;
  remove(id: string): Promise<void>;
  /** The network plugin's check of a ready pod (CNI CHECK), for verbose status. */
  checkNetwork(id: string): Promise<string>;
}
export const SandboxService = defineToken<SandboxService>('SandboxService');

/** Containers: create, start, stop, remove, look up (bound by service.pods). */
export interface ContainerService {
  create(sandboxId: string, config: ContainerConfig__Output, sandboxConfig: PodSandboxConfig__Output | null): Promise<ContainerRecord>;
  start(id: string): Promise<void>;
  stop(id: string, timeoutSeconds: number): Promise<void>;
  remove(id: string): Promise<void>;
  /** Applies new CPU, memory, cpuset, hugepage and unified limits through the runtime. */
  updateResources(id: string, resources: LinuxContainerResources__Output): Promise<void>;
  reopenLog(id: string): Promise<void>;
  /** By full ID or a unique prefix; NOT_FOUND otherwise. */
  get(id: string): ContainerRecord;
  find(id: string): ContainerRecord | undefined;
  list(sandboxId?: string): ContainerRecord[];
}
export const ContainerService = defineToken<ContainerService>('ContainerService');

/** What happened to a container (or, under the sandbox's ID, to a sandbox). */
export type LifecycleEventType = 'CONTAINER_CREATED_EVENT' | 'CONTAINER_STARTED_EVENT' | 'CONTAINER_STOPPED_EVENT' | 'CONTAINER_DELETED_EVENT';

export interface LifecycleEvent {
  readonly type: LifecycleEventType;
  /** The container's ID, or the sandbox's for a sandbox event. */
  readonly containerId: string;
  readonly sandboxId: string;
  /** Nanoseconds since the epoch. */
  readonly createdAtNanos: bigint;
}

export type LifecycleListener = (event: LifecycleEvent) => void;

/**
 * Lifecycle events of containers and sandboxes, published by the services in the order they
 * happen, delivered synchronously; a listener that throws is logged and skipped. Bound by the core.
 */
export interface EventBus {
  publish(event: LifecycleEvent): void;
  /** Returns the function that unsubscribes. */
  subscribe(listener: LifecycleListener): () => void;
  readonly listenerCount: number;
}
export const EventBus = defineToken<EventBus>('EventBus');

/**
 * Per-object locks shared by every service (core/locks/keyed-lock.ts): operations on one object
 * queue, others never wait. Keys: `sandbox:<id>`, `pod-name:<name_namespace_uid_attempt>`,
 * `container:<id>`, `container-name:<sandbox id>:<name_attempt>`, `image:<id>`. Bound by the core.
 */
export interface ObjectLocks {
  exclusive<T>(key: string, work: () => Promise<T>): Promise<T>;
  shared<T>(key: string, work: () => Promise<T>): Promise<T>;
  /** Several keys at once, taken in a fixed order so crossed requests cannot deadlock. */
  hold<T>(wanted: readonly { readonly key: string; readonly mode: 'shared' | 'exclusive' }[], work: () => Promise<T>): Promise<T>;
}
export const ObjectLocks = defineToken<ObjectLocks>('ObjectLocks');

/** What the pod events plugin tells metrics: open GetContainerEvents streams, overflows, events sent (bound by events.pod-events). */
export interface PodEventsStats {
  subscribers(): number;
  overflows(): number;
  published(): number;
}
export const PodEventsStats = defineToken<PodEventsStats>('PodEventsStats');
