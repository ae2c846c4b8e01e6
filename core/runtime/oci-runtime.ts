import type { AttachSession, AttachSessionEvents } from './attach-session';
import type { Readiness } from './readiness';

// The OCI runtime contract: what a runtime plugin registers in the RuntimeRegistry for each
// runtime it serves. Types only, so core/tokens.ts and third-party plugins can name them without
// importing an implementation.

/** Where a container's runtime files live, as the container service lays them out. */
export interface ContainerRuntimePaths {
  /** The OCI bundle: config.json (rootfs mounted elsewhere and named in the spec). */
  readonly bundle: string;
  /** Files the supervisor keeps for the container's whole life: exit code, OOM marker. */
  readonly persistDir: string;
  /** Directory where the exit file `<id>` appears when the container exits (watched). */
  readonly exitDir: string;
  /** Directory for the attach socket. */
  readonly socketDir: string;
  /** The CRI log file. */
  readonly logPath: string;
}

export interface CreateContainerOptions {
  readonly id: string;
  readonly paths: ContainerRuntimePaths;
  readonly terminal: boolean;
  readonly stdin: boolean;
  readonly stdinOnce: boolean;
  /** Bytes after which the log is rotated by the supervisor (-1: no limit). */
  readonly logSizeMax: number;
  /** The pod's cgroup (where the cgroup driver may place the supervisor). */
  readonly podCgroup?: string;
}

/** What the runtime knows of a container right now. */
export interface RuntimeContainerState {
  readonly status: 'created' | 'running' | 'stopped' | 'paused' | 'unknown';
  readonly pid: number;
}

/**
 * One OCI runtime, as a runtime plugin registers it: it creates containers under a supervisor
 * that outlives the daemon, starts, signals and deletes them, and reports their state.
 */
export interface OciRuntime {
  /** Its name in `runtimes` / `default-runtime` (for example "runc"). */
  readonly name: string;
  /** Whether the runtime can run containers now (binary present and answering). */
  checkReady(): Promise<Readiness>;
  /** Facts for verbose status: path, version, arguments. */
  describe(): Record<string, string>;
  /** Creates the container (not started); resolves with its init pid once the runtime is done. */
  create(options: CreateContainerOptions): Promise<{ readonly pid: number }>;
  start(id: string): Promise<void>;
  /** Sends a signal to the container's init (or every process with `all`). */
  kill(id: string, signal: string, all?: boolean): Promise<void>;
  /** Deletes the runtime's state for the container (forcing a running one down). */
  delete(id: string): Promise<void>;
  /** The runtime's view of the container, or undefined when it does not know it. */
  state(id: string): Promise<RuntimeContainerState | undefined>;
  /** Asks the supervisor to reopen the log file (after the kubelet rotated it). */
  reopenLog(paths: ContainerRuntimePaths): Promise<void>;
  /**
   * The command line (program first) that runs an extra process in a running container from an
   * OCI process JSON file, attached to the caller's stdio: the exec module spawns it, caps its
   * output and kills it on timeout.
   */
  execCommand(id: string, processFile: string): readonly string[];
  /** Applies new resources (an OCI linux.resources JSON file) to a running container. */
  update(id: string, resourcesFile: string): Promise<void>;
  /**
   * Opens an attach session to a running container's stdio, for runtimes whose supervisor keeps
   * it (the runc plugin's conmon). Throws when the container cannot be reached (it exited). Left
   * out, Attach to this runtime's containers is refused.
   */
  attach?(paths: ContainerRuntimePaths, events: AttachSessionEvents): AttachSession;
}

