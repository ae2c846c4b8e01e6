import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContainerConfig__Output } from '../cri/generated/runtime/v1/ContainerConfig';
import type { PodSandboxConfig__Output } from '../cri/generated/runtime/v1/PodSandboxConfig';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, describeError } from '../errors';
import type { SandboxRecord } from '../pods/sandbox-record';
import { Undo } from '../pods/undo';
import type { OciRuntime } from '../runtime/runtime-registry';
import type { CgroupDriver, DaemonConfig, EventBus, ImageService, Logger, MetadataStore, ObjectLocks, RuntimeRegistry } from '../tokens';
import type { LifecycleEventType } from '../tokens';
import { nowNanosText } from '../clock/unix-nanos';
import { containerDirs, exitDirectory, newContainerId, runtimePaths } from './container-paths';
import type { ContainerRecord } from './container-record';
import { unmountRootfs } from './container-rootfs';
import { containerLogPath } from './container-log-path';
import { createInRuntime } from './create-in-runtime';
import { ExitTracker } from './exit-tracker';
import { mergeResources } from './merge-resources';
import { parseSize } from './parse-size';
import { withPodNamespaceOptions } from './pod-namespace-options';
import { publishContainerEvent } from './publish-container-event';
import { rootfsImageUsers } from './rootfs-image-users';
import { waitForLogFile } from './wait-for-log-file';
import { checkLabelsAndAnnotations, checkName } from '../cri/object-limits';
import { findByPrefix } from '../store/find-by-prefix';
import { parseImageReference } from '../images/image-reference';
import { isCheckpointArchive, restoreFromArchive } from '../checkpoint/restore-from-archive';
import { ociResources } from '../oci/container-resources';
import type { LinuxContainerResources__Output } from '../cri/generated/runtime/v1/LinuxContainerResources';
import { hostFacts } from './host-facts';
import { killPoint } from '../crash/kill-point';
import { recoverContainers } from './container-recovery';
import { settleWithRuntime } from './runtime-truth';
import { signalContainer } from './signal-container';
import { clearStopMarker } from './stop-marker';
import type { ImageRecord } from '../images/image-records';

// Containers: created under conmon with runc from an OCI spec built from the CRI config and the
// image, started, stopped with the image's stop signal then SIGKILL, removed with everything
// they made. A container's record is durable before each RPC answers; a failed create undoes
// every step (runtime state, conmon, the rootfs mount, directories). The create steps shared
// with the pause container are in create-in-runtime.ts; exits are folded in by exit-tracker.ts.

// Moved to files of their own; still exported here for callers that import them from this file.
export { containerLogPath } from './container-log-path';
export { parseSize } from './parse-size';

const KILL_WAIT_MS = 10_000;

export interface ContainerServiceDependencies {
  readonly config: DaemonConfig;
  readonly store: MetadataStore;
  readonly driver: CgroupDriver;
  readonly runtimes: RuntimeRegistry;
  readonly images: ImageService;
  readonly logger: Logger;
  readonly sandbox: (id: string) => SandboxRecord;
  readonly events: EventBus;
  /** Per-object locks (core/locks/keyed-lock.ts): `container:<id>`, `sandbox:<id>`, `container-name:…`, `image:<id>`. */
  readonly locks: ObjectLocks;
}

export class ContainerService {
  private readonly exits: ExitTracker;

  constructor(private readonly deps: ContainerServiceDependencies) {
    this.exits = new ExitTracker({ exitDir: exitDirectory(deps.config), store: deps.store, driver: deps.driver, events: deps.events, logger: deps.logger });
  }

  /**
   * Starts watching for exits, folds in those that happened while the daemon was down, then
   * recovers what a killed daemon left half-done (core/containers/container-recovery.ts).
   */
  async open(): Promise<void> {
    this.exits.open();
    await recoverContainers({ ...this.deps, exits: this.exits }, {
      complete: (id, stop) => (stop ? this.stop(id, 0) : this.remove(id)),
      settle: (record) => this.settle(record),
    });
  }

  close(): void {
    this.exits.close();
  }

  async create(sandboxId: string, config: ContainerConfig__Output, sandboxConfig: PodSandboxConfig__Output | null): Promise<ContainerRecord> {
    const sandbox = this.deps.sandbox(sandboxId);
    if (sandbox.state !== 'SANDBOX_READY') {
      throw new FailedPreconditionError(`sandbox ${sandbox.id} is not ready (it was stopped); a container cannot be created in it`);
    }
    const metadata = config.metadata;
    if (!metadata || metadata.name === '') throw new InvalidArgumentError('CreateContainer needs metadata with a name');
    checkName(metadata.name, 'config.metadata.name');
    checkLabelsAndAnnotations(config, 'config');
    const key = `${metadata.name}_${metadata.attempt}`;
    this.checkNameFree(sandbox.id, key, metadata.name, metadata.attempt);
    const imageName = config.image?.image ?? '';
    if (imageName === '') throw new InvalidArgumentError(`container "${metadata.name}" names no image`);
    if (this.deps.config.enableCriuSupport && isCheckpointArchive(imageName)) await restoreFromArchive(imageName, metadata.name);
    const image = this.deps.images.find(imageName);
    if (!image) {
      // An image ID (or a prefix of one) names no reference; anything else must parse as one.
      if (!/^(sha256:)?[a-f0-9]{12,64}$/.test(imageName.trim())) parseImageReference(imageName);
      throw new NotFoundError(`image "${imageName}" for container "${metadata.name}" is not present; pull it first`);
    }
    // Under the locks, the sandbox (shared: RemovePodSandbox waits), the name and the image
    // (shared: RemoveImage waits) are checked again, since each may have changed meanwhile.
    const shared = (lockKey: string) => ({ key: lockKey, mode: 'shared' as const });
    return this.deps.locks.hold([shared(`sandbox:${sandbox.id}`), { key: `container-name:${sandbox.id}:${key}`, mode: 'exclusive' }, shared(`image:${image.id}`)], async () => {
      const current = this.deps.sandbox(sandbox.id);
      if (current.state !== 'SANDBOX_READY') throw new FailedPreconditionError(`sandbox ${sandbox.id} was stopped while container "${metadata.name}" was being created`);
      this.checkNameFree(sandbox.id, key, metadata.name, metadata.attempt);
      if (this.deps.images.find(image.id)?.id !== image.id) throw new NotFoundError(`image "${imageName}" (${image.id}) for container "${metadata.name}" was removed; pull it again`);
      return this.createLocked(current, config, sandboxConfig, key, imageName, image);
    });
  }

  private checkNameFree(sandboxId: string, key: string, name: string, attempt: number): void {
    const clash = this.list(sandboxId).find((c) => c.key === key);
    if (clash) throw new AlreadyExistsError(`container name "${name}" (attempt ${attempt}) is already used by container ${clash.id} in sandbox ${sandboxId}`);
  }

  private async createLocked(sandbox: SandboxRecord, config: ContainerConfig__Output, sandboxConfig: PodSandboxConfig__Output | null, key: string, imageName: string, image: ImageRecord): Promise<ContainerRecord> {
    const metadata = { name: config.metadata?.name ?? '', attempt: config.metadata?.attempt ?? 0 };
    const logPath = containerLogPath(sandbox.config.log_directory, config.log_path, metadata.name);
    const runtime = this.runtimeOf(sandbox);

    const id = newContainerId();
    const dirs = containerDirs(this.deps.config, id);
    const undo = new Undo(this.deps.logger, `container ${id}`);
    try {
      const { pid, cgroupsPath } = await createInRuntime(
        this.deps,
        runtime,
        {
          id,
          image,
          dirs,
          podCgroup: sandbox.cgroup.path,
          logPath,
          io: { terminal: config.tty, stdin: config.stdin, stdinOnce: config.stdin_once, logSizeMax: parseSize(this.deps.config.containerLog.maxSize) },
          spec: (rootfs) => ({
            containerName: metadata.name,
            config: withPodNamespaceOptions(config, sandbox),
            sandboxConfig: sandboxConfig ?? sandbox.config,
            sandbox: {
              id: sandbox.id,
              hostname: fs.readFileSync(sandbox.files.hostname, 'utf8').trim(),
              namespaces: sandbox.namespaces,
              files: sandbox.files,
              targetPidNamespace: (targetId) => this.pidNamespaceOf(targetId),
            },
            image: { id: image.id, name: imageName, config: image.config.config ?? {} },
            imageUsers: rootfsImageUsers(rootfs),
          }),
        },
        undo,
      );

      const record: ContainerRecord = {
        id,
        sandboxId: sandbox.id,
        key,
        config,
        imageName,
        imageId: image.id,
        runtimeName: runtime.name,
        cgroupsPath,
        logPath,
        stopSignal: image.config.config?.StopSignal || 'SIGTERM',
        state: 'CONTAINER_CREATED',
        pid,
        createdAt: nowNanosText(),
        startedAt: '0',
        finishedAt: '0',
        exitCode: 0,
        reason: '',
        message: '',
        paths: dirs.paths,
      };
      this.deps.store.putContainer(id, sandbox.id, record);
      killPoint('container-recorded');
      this.publish('CONTAINER_CREATED_EVENT', record);
      this.deps.logger.info(`container ${id} created`, { name: metadata.name, sandbox: sandbox.id, image: imageName });
      return record;
    } catch (error) {
      await undo.run();
      throw error;
    }
  }

  /** Starts a created container; the loser of two starts gets FAILED_PRECONDITION. */
  start(id: string): Promise<void> {
    return this.deps.locks.exclusive(`container:${this.get(id).id}`, () => this.startLocked(id));
  }

  private async startLocked(id: string): Promise<void> {
    // Re-read under the lock: another start may have run meanwhile.
    const record = this.refresh(this.get(id));
    if (record.state !== 'CONTAINER_CREATED') {
      throw new FailedPreconditionError(`container ${record.id} is ${stateWord(record.state)}; only a created container can be started`);
    }
    const runtime = this.deps.runtimes.forHandler(this.runtimeOfRecord(record));
    const startedAt = nowNanosText();
    // An exit seen while starting must come after STARTED, never before it.
    await this.exits.whileStarting(record.id, async () => {
      try {
        await runtime.start(record.id);
      } catch (error) {
        // A start that failed to report (a timeout, a killed runc) may still have started it.
        if ((await runtime.state(record.id).catch(() => undefined))?.status !== 'running') {
          const failed: ContainerRecord = { ...record, state: 'CONTAINER_EXITED', startedAt, finishedAt: nowNanosText(), exitCode: 128, reason: 'StartError', message: describeError(error) };
          this.save(failed);
          this.publish('CONTAINER_STOPPED_EVENT', failed);
          throw error;
        }
        this.deps.logger.warn(`container ${record.id}: runtime start reported an error but the container runs: ${describeError(error)}`);
      }
      killPoint('container-started-in-runtime');
      const running: ContainerRecord = { ...record, state: 'CONTAINER_RUNNING', startedAt };
      this.save(running);
      killPoint('container-running-recorded');
      this.publish('CONTAINER_STARTED_EVENT', running);
    });
    // A container that exits at once may already have written its exit file.
    this.refresh(record);
    this.deps.logger.info(`container ${record.id} started`);
  }

  /** The stop signal, then SIGKILL after `timeoutSeconds`; a stopped container is left as is. */
  async stop(id: string, timeoutSeconds: number): Promise<void> {
    const { id: full } = this.get(id);
    await this.deps.locks.exclusive(`container:${full}`, async () => {
      await this.stopLocked(full, timeoutSeconds);
      clearStopMarker(this.deps.store, full);
    });
  }

  private async stopLocked(id: string, timeoutSeconds: number): Promise<void> {
    let record = this.refresh(this.get(id));
    if (record.state !== 'CONTAINER_RUNNING') return;
    const runtime = this.deps.runtimes.forHandler(this.runtimeOfRecord(record));
    // Durable before any signal: a daemon killed mid-stop has the stop completed at start-up.
    if (!record.stopping) {
      record = { ...record, stopping: true };
      this.save(record);
    }
    if (timeoutSeconds > 0) {
      const signalled = await signalContainer(runtime, this.deps.logger, record.id, record.stopSignal, false);
      killPoint('container-stop-signalled');
      // A signal that finds no process: the runtime says whether the container is gone.
      if (!signalled && (await this.settle(record)).state === 'CONTAINER_EXITED') return;
      if (await this.exits.waitForExit(record.id, timeoutSeconds * 1000)) return;
    }
    const killed = await signalContainer(runtime, this.deps.logger, record.id, 'SIGKILL', true);
    killPoint('container-killed');
    if (!killed && (await this.settle(record)).state === 'CONTAINER_EXITED') return;
    // runc 1.1 with --systemd-cgroup on cgroup v1 answers `kill --all` without killing anything;
    // the init process itself is always reachable.
    if (!(await this.exits.waitForExit(record.id, 500))) await signalContainer(runtime, this.deps.logger, record.id, 'SIGKILL', false);
    if (!(await this.exits.waitForExit(record.id, KILL_WAIT_MS))) {
      if ((await this.settle(record)).state === 'CONTAINER_EXITED') return;
      throw new FailedPreconditionError(`container ${record.id} did not exit within ${KILL_WAIT_MS} ms of SIGKILL`);
    }
  }

  /** Stops (forcibly) and removes a container and all it made; removing an unknown one is fine. */
  async remove(id: string): Promise<void> {
    const found = this.find(id);
    if (!found) return;
    await this.deps.locks.exclusive(`container:${found.id}`, () => this.removeLocked(found.id));
  }

  private async removeLocked(id: string): Promise<void> {
    const found = this.find(id);
    if (!found) return; // removed while this call waited for the lock
    let record = this.refresh(found);
    // Durable before anything is deleted: a daemon killed mid-remove has it completed at start-up.
    if (!record.removing) {
      record = { ...record, removing: true };
      this.save(record);
    }
    killPoint('container-remove-marked');
    if (record.state === 'CONTAINER_RUNNING') await this.stopLocked(record.id, 0);
    const runtime = this.deps.runtimes.forHandler(this.runtimeOfRecord(record));
    await runtime.delete(record.id);
    await this.deps.driver.releaseContainer?.(record.id);
    killPoint('container-deleted-in-runtime');
    await unmountRootfs(record.paths.rootfs);
    killPoint('container-rootfs-unmounted');
    // In the thread pool: a synchronous tree removal held the daemon's one thread for every pod.
    const doomed = [path.dirname(record.paths.upper), this.exits.exitFile(record.id), path.dirname(record.paths.bundle)];
    await Promise.all(doomed.map((target) => fs.promises.rm(target, { recursive: true, force: true })));
    killPoint('container-dirs-removed');
    this.deps.store.deleteContainer(record.id);
    this.publish('CONTAINER_DELETED_EVENT', record);
    this.deps.logger.info(`container ${record.id} removed`);
  }

  async stopAll(sandboxId: string): Promise<void> {
    for (const record of this.list(sandboxId)) await this.stop(record.id, 0);
  }

  async removeAll(sandboxId: string): Promise<void> {
    for (const record of this.list(sandboxId)) await this.remove(record.id);
  }

  /** Applies new CPU, memory, cpuset, hugepage and unified limits through the runtime; kept for status. */
  async updateResources(id: string, resources: LinuxContainerResources__Output): Promise<void> {
    await this.deps.locks.exclusive(`container:${this.get(id).id}`, () => this.updateResourcesLocked(id, resources));
  }

  private async updateResourcesLocked(id: string, resources: LinuxContainerResources__Output): Promise<void> {
    const record = this.refresh(this.get(id));
    if (record.state !== 'CONTAINER_RUNNING' && record.state !== 'CONTAINER_CREATED') {
      throw new FailedPreconditionError(`container ${record.id} is ${stateWord(record.state)}; resources can be updated only while it exists in the runtime`);
    }
    const oci = ociResources(resources, hostFacts().cgroupVersion, (cause) => new InvalidArgumentError(`container ${record.id}: ${cause}`));
    const { devices: _devices, ...changes } = oci;
    // A file of its own per call: two updates never read each other's half-written limits.
    const file = path.join(path.dirname(record.paths.bundle), `resources-${randomBytes(8).toString('hex')}.json`);
    fs.writeFileSync(file, JSON.stringify(changes), { mode: 0o600 });
    try {
      await this.deps.runtimes.forHandler(this.runtimeOfRecord(record)).update(record.id, file);
    } finally {
      fs.rmSync(file, { force: true });
    }
    const linux = { resources: mergeResources(record.config.linux?.resources ?? null, resources), security_context: record.config.linux?.security_context ?? null };
    this.save({ ...record, config: { ...record.config, linux } });
    this.deps.logger.info(`container ${record.id} resources updated`);
  }

  async reopenLog(id: string): Promise<void> {
    await this.deps.locks.exclusive(`container:${this.get(id).id}`, () => this.reopenLogLocked(id));
  }

  private async reopenLogLocked(id: string): Promise<void> {
    const record = this.refresh(this.get(id));
    if (record.state !== 'CONTAINER_RUNNING') {
      throw new FailedPreconditionError(`container ${record.id} is ${stateWord(record.state)}; its log can be reopened only while it runs`);
    }
    const runtime = this.deps.runtimes.forHandler(this.runtimeOfRecord(record));
    await runtime.reopenLog(runtimePaths(record.paths, record.logPath));
    await waitForLogFile(record.id, record.logPath);
  }

  get(id: string): ContainerRecord {
    const found = this.find(id);
    if (!found) throw new NotFoundError(`container ${id} not found`);
    return this.refresh(found);
  }

  /** By full ID or a unique prefix of one. */
  find(id: string): ContainerRecord | undefined {
    if (id === '') return undefined;
    return findByPrefix(id, this.deps.store.getContainer<ContainerRecord>(id), () => this.deps.store.listContainers<ContainerRecord>(), 'container');
  }

  list(sandboxId?: string): ContainerRecord[] {
    return this.deps.store.listContainers<ContainerRecord>(sandboxId).map((record) => this.refresh(record));
  }

  private refresh(record: ContainerRecord): ContainerRecord {
    return this.exits.refresh(record);
  }

  /** The record as its runtime's real state makes it (core/containers/runtime-truth.ts). */
  private settle(record: ContainerRecord): Promise<ContainerRecord> {
    const runtime = this.deps.runtimes.forHandler(this.runtimeOfRecord(record));
    return settleWithRuntime({ ...this.deps, exits: this.exits }, runtime, record);
  }

  private publish(type: LifecycleEventType, record: ContainerRecord): void {
    publishContainerEvent(this.deps.events, type, record);
  }

  private save(record: ContainerRecord): void {
    this.deps.store.putContainer(record.id, record.sandboxId, record);
  }

  private pidNamespaceOf(containerId: string): string | undefined {
    const target = this.find(containerId);
    if (!target || this.refresh(target).state !== 'CONTAINER_RUNNING') return undefined;
    return `/proc/${target.pid}/ns/pid`;
  }

  private runtimeOf(sandbox: SandboxRecord): OciRuntime {
    return this.deps.runtimes.forHandler(sandbox.runtimeHandler);
  }

  private runtimeOfRecord(record: ContainerRecord): string {
    return record.runtimeName;
  }
}

function stateWord(state: ContainerRecord['state']): string {
  return state.replace('CONTAINER_', '').toLowerCase();
}
