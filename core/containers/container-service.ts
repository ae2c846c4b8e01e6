import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContainerConfig__Output } from '../cri/generated/runtime/v1/ContainerConfig';
import type { PodSandboxConfig__Output } from '../cri/generated/runtime/v1/PodSandboxConfig';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, describeError } from '../errors';
import type { SandboxRecord } from '../pods/sandbox-record';
import { Undo } from '../pods/undo';
import type { OciRuntime } from '../runtime/runtime-registry';
import type { CgroupDriver, DaemonConfig, EventBus, ImageService, Logger, MetadataStore, RuntimeRegistry } from '../tokens';
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
}

export class ContainerService {
  private readonly exits: ExitTracker;

  constructor(private readonly deps: ContainerServiceDependencies) {
    this.exits = new ExitTracker({ exitDir: exitDirectory(deps.config), store: deps.store, driver: deps.driver, events: deps.events, logger: deps.logger });
  }

  /** Starts watching for exits and folds in those that happened while the daemon was down. */
  open(): void {
    this.exits.open();
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
    const clash = this.list(sandbox.id).find((c) => c.key === key);
    if (clash) throw new AlreadyExistsError(`container name "${metadata.name}" (attempt ${metadata.attempt}) is already used by container ${clash.id} in sandbox ${sandbox.id}`);
    const imageName = config.image?.image ?? '';
    if (imageName === '') throw new InvalidArgumentError(`container "${metadata.name}" names no image`);
    if (this.deps.config.enableCriuSupport && isCheckpointArchive(imageName)) await restoreFromArchive(imageName, metadata.name);
    const image = this.deps.images.find(imageName);
    if (!image) {
      // An image ID (or a prefix of one) names no reference; anything else must parse as one.
      if (!/^(sha256:)?[a-f0-9]{12,64}$/.test(imageName.trim())) parseImageReference(imageName);
      throw new NotFoundError(`image "${imageName}" for container "${metadata.name}" is not present; pull it first`);
    }
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
      this.publish('CONTAINER_CREATED_EVENT', record);
      this.deps.logger.info(`container ${id} created`, { name: metadata.name, sandbox: sandbox.id, image: imageName });
      return record;
    } catch (error) {
      await undo.run();
      throw error;
    }
  }

  async start(id: string): Promise<void> {
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
        const failed: ContainerRecord = { ...record, state: 'CONTAINER_EXITED', startedAt, finishedAt: nowNanosText(), exitCode: 128, reason: 'StartError', message: describeError(error) };
        this.save(failed);
        this.publish('CONTAINER_STOPPED_EVENT', failed);
        throw error;
      }
      const running: ContainerRecord = { ...record, state: 'CONTAINER_RUNNING', startedAt };
      this.save(running);
      this.publish('CONTAINER_STARTED_EVENT', running);
    });
    // A container that exits at once may already have written its exit file.
    this.refresh(record);
    this.deps.logger.info(`container ${record.id} started`);
  }

  /** The stop signal, then SIGKILL after `timeoutSeconds`; a stopped container is left as is. */
  async stop(id: string, timeoutSeconds: number): Promise<void> {
    const record = this.refresh(this.get(id));
    if (record.state !== 'CONTAINER_RUNNING') return;
    const runtime = this.deps.runtimes.forHandler(this.runtimeOfRecord(record));
    if (timeoutSeconds > 0) {
      await runtime.kill(record.id, record.stopSignal).catch((error: unknown) => this.deps.logger.warn(`signal to ${record.id} failed: ${describeError(error)}`));
      if (await this.exits.waitForExit(record.id, timeoutSeconds * 1000)) return;
    }
    await runtime.kill(record.id, 'SIGKILL', true).catch((error: unknown) => this.deps.logger.warn(`SIGKILL to ${record.id} failed: ${describeError(error)}`));
    // runc 1.1 with --systemd-cgroup on cgroup v1 answers `kill --all` without killing anything;
    // the init process itself is always reachable.
    if (!(await this.exits.waitForExit(record.id, 500))) {
      await runtime.kill(record.id, 'SIGKILL').catch((error: unknown) => this.deps.logger.warn(`SIGKILL to ${record.id} init failed: ${describeError(error)}`));
    }
    if (!(await this.exits.waitForExit(record.id, KILL_WAIT_MS))) {
      throw new FailedPreconditionError(`container ${record.id} did not exit within ${KILL_WAIT_MS} ms of SIGKILL`);
    }
  }

  /** Stops (forcibly) and removes a container and all it made; removing an unknown one is fine. */
  async remove(id: string): Promise<void> {
    const found = this.find(id);
    if (!found) return;
    const record = this.refresh(found);
    if (record.state === 'CONTAINER_RUNNING') await this.stop(record.id, 0);
    const runtime = this.deps.runtimes.forHandler(this.runtimeOfRecord(record));
    await runtime.delete(record.id);
    await this.deps.driver.releaseContainer?.(record.id);
    await unmountRootfs(record.paths.rootfs);
    fs.rmSync(path.dirname(record.paths.bundle), { recursive: true, force: true });
    fs.rmSync(path.dirname(record.paths.upper), { recursive: true, force: true });
    fs.rmSync(this.exits.exitFile(record.id), { force: true });
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
    const record = this.refresh(this.get(id));
    if (record.state !== 'CONTAINER_RUNNING' && record.state !== 'CONTAINER_CREATED') {
      throw new FailedPreconditionError(`container ${record.id} is ${stateWord(record.state)}; resources can be updated only while it exists in the runtime`);
    }
    const oci = ociResources(resources, hostFacts().cgroupVersion, (cause) => new InvalidArgumentError(`container ${record.id}: ${cause}`));
    const { devices: _devices, ...changes } = oci;
    const file = path.join(path.dirname(record.paths.bundle), 'resources.json');
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
