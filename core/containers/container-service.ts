import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { ContainerConfig__Output } from '../cri/generated/runtime/v1/ContainerConfig';
import type { PodSandboxConfig__Output } from '../cri/generated/runtime/v1/PodSandboxConfig';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, describeError } from '../errors';
import { buildContainerSpec } from '../oci/build-container-spec';
import { parseImageUsers } from '../oci/image-users';
import { nowNanos } from '../pods/sandbox-service';
import type { SandboxRecord } from '../pods/sandbox-record';
import { Undo } from '../pods/undo';
import type { ContainerRuntimePaths, OciRuntime } from '../runtime/runtime-registry';
import type { CgroupDriver, DaemonConfig, EventBus, ImageService, Logger, MetadataStore, RuntimeRegistry } from '../tokens';
import { nowNanosBigint, type LifecycleEventType } from '../events/event-bus';
import type { ContainerRecord } from './container-record';
import { mountRootfs, unmountRootfs } from './container-rootfs';
import { emptySecurityContext } from './empty-configs';
import { ExitWatcher, readExitCode } from './exit-watcher';
import { waitForLogFile } from './wait-for-log-file';
import { checkLabelsAndAnnotations, checkName } from '../cri/object-limits';
import { findByPrefix } from '../store/find-by-prefix';
import { parseImageReference } from '../images/image-reference';
import { isCheckpointArchive, restoreFromArchive } from '../checkpoint/restore-from-archive';
import { oomKillCount } from '../cgroup/oom-kills';
import { ociResources } from '../oci/container-resources';
import type { LinuxContainerResources__Output } from '../cri/generated/runtime/v1/LinuxContainerResources';
import { hostFacts, hostPathAccess, localhostSeccompProfiles } from './host-facts';

// Containers: created under conmon with runc from an OCI spec built from the CRI config and the
// image, started, stopped with the image's stop signal then SIGKILL, removed with everything
// they made. A container's record is durable before each RPC answers; a failed create undoes
// every step (runtime state, conmon, the rootfs mount, directories).

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
  private readonly exitDir: string;
  private readonly watcher: ExitWatcher;
  private readonly exitWaiters = new Map<string, (() => void)[]>();
  /** Containers inside StartContainer: their exit is folded in by start() itself, after RUNNING. */
  private readonly starting = new Set<string>();

  constructor(private readonly deps: ContainerServiceDependencies) {
    this.exitDir = path.join(deps.config.state, 'exits');
    this.watcher = new ExitWatcher(this.exitDir, (id) => this.onExit(id), deps.logger);
  }

  /** Starts watching for exits and folds in those that happened while the daemon was down. */
  open(): void {
    this.watcher.start();
    this.reconcile();
  }

  close(): void {
    this.watcher.stop();
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

    const id = randomBytes(32).toString('hex');
    const stateDir = path.join(this.deps.config.state, 'containers', id);
    const graphDir = path.join(this.deps.config.graph, 'containers', id);
    const paths: ContainerRecord['paths'] = {
      bundle: path.join(stateDir, 'bundle'),
      rootfs: path.join(stateDir, 'rootfs'),
      persistDir: path.join(stateDir, 'persist'),
      exitDir: this.exitDir,
      socketDir: path.join(stateDir, 'attach'),
      upper: path.join(graphDir, 'upper'),
      work: path.join(graphDir, 'work'),
    };
    const cgroupsPath = this.deps.driver.containerCgroupsPath(sandbox.cgroup.path, id);
    const undo = new Undo(this.deps.logger, `container ${id}`);
    try {
      fs.mkdirSync(paths.bundle, { recursive: true, mode: 0o700 });
      undo.push(() => fs.rmSync(stateDir, { recursive: true, force: true }));
      undo.push(() => fs.rmSync(graphDir, { recursive: true, force: true }));
      await mountRootfs(this.deps.images.lowerDirs(image), paths.upper, paths.work, paths.rootfs);
      undo.push(() => unmountRootfs(paths.rootfs));

      const spec = buildContainerSpec({
        containerId: id,
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
        imageUsers: parseImageUsers(readIfExists(path.join(paths.rootfs, 'etc', 'passwd')), readIfExists(path.join(paths.rootfs, 'etc', 'group'))),
        rootfsPath: paths.rootfs,
        cgroupsPath,
        host: hostFacts(),
        hostPaths: hostPathAccess(),
        seccompProfiles: localhostSeccompProfiles(this.deps.config),
      });
      fs.writeFileSync(path.join(paths.bundle, 'config.json'), JSON.stringify(spec), { mode: 0o600 });

      fs.mkdirSync(path.dirname(logPath), { recursive: true });
      const { pid } = await runtime.create({
        id,
        paths: this.runtimePaths(paths, logPath),
        terminal: config.tty,
        stdin: config.stdin,
        stdinOnce: config.stdin_once,
        logSizeMax: parseSize(this.deps.config.containerLog.maxSize),
        podCgroup: sandbox.cgroup.path,
      });
      undo.push(async () => {
        await runtime.delete(id);
        await this.deps.driver.releaseContainer?.(id);
      });

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
        createdAt: nowNanos(),
        startedAt: '0',
        finishedAt: '0',
        exitCode: 0,
        reason: '',
        message: '',
        paths,
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
    const startedAt = nowNanos();
    // An exit seen while starting must come after STARTED, never before it.
    this.starting.add(record.id);
    try {
      try {
        await runtime.start(record.id);
      } catch (error) {
        const failed: ContainerRecord = { ...record, state: 'CONTAINER_EXITED', startedAt, finishedAt: nowNanos(), exitCode: 128, reason: 'StartError', message: describeError(error) };
        this.save(failed);
        this.publish('CONTAINER_STOPPED_EVENT', failed);
        throw error;
      }
      const running: ContainerRecord = { ...record, state: 'CONTAINER_RUNNING', startedAt };
      this.save(running);
      this.publish('CONTAINER_STARTED_EVENT', running);
    } finally {
      this.starting.delete(record.id);
    }
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
      if (await this.waitForExit(record.id, timeoutSeconds * 1000)) return;
    }
    await runtime.kill(record.id, 'SIGKILL', true).catch((error: unknown) => this.deps.logger.warn(`SIGKILL to ${record.id} failed: ${describeError(error)}`));
    // runc 1.1 with --systemd-cgroup on cgroup v1 answers `kill --all` without killing anything;
    // the init process itself is always reachable.
    if (!(await this.waitForExit(record.id, 500))) {
      await runtime.kill(record.id, 'SIGKILL').catch((error: unknown) => this.deps.logger.warn(`SIGKILL to ${record.id} init failed: ${describeError(error)}`));
    }
    if (!(await this.waitForExit(record.id, KILL_WAIT_MS))) {
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
    fs.rmSync(path.join(this.exitDir, record.id), { force: true });
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
    await runtime.reopenLog(this.runtimePaths(record.paths, record.logPath));
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

  /** Resolves when the container has exited, or with false after `ms`. */
  private async waitForExit(id: string, ms: number): Promise<boolean> {
    if (readExitCode(this.exitDir, id)) {
      this.refresh(this.get(id));
      return true;
    }
    const exited = new Promise<boolean>((resolve) => {
      const waiters = this.exitWaiters.get(id) ?? [];
      waiters.push(() => resolve(true));
      this.exitWaiters.set(id, waiters);
    });
    const result = await Promise.race([exited, delay(ms).then(() => false)]);
    if (!result && readExitCode(this.exitDir, id)) {
      this.refresh(this.get(id));
      return true;
    }
    return result;
  }

  private onExit(id: string): void {
    const record = this.deps.store.getContainer<ContainerRecord>(id);
    if (record) this.refresh(record);
    for (const wake of this.exitWaiters.get(id)?.splice(0) ?? []) wake();
    this.exitWaiters.delete(id);
  }

  /** Folds an exit file into the record (and persists it) when the container has exited. */
  private refresh(given: ContainerRecord): ContainerRecord {
    if (this.starting.has(given.id)) return given;
    // The stored record is the truth: a copy read earlier may predate an exit already folded in.
    const record = this.deps.store.getContainer<ContainerRecord>(given.id) ?? given;
    if (record.state !== 'CONTAINER_RUNNING' && record.state !== 'CONTAINER_CREATED') return record;
    const exit = readExitCode(this.exitDir, record.id);
    if (!exit) return record;
    // conmon's marker, or the cgroup's own count: either is evidence of an OOM kill.
    const oomKilled = fs.existsSync(path.join(record.paths.persistDir, 'oom')) || oomKillCount(this.deps.driver.cgroupDirs(record.cgroupsPath)) > 0;
    const updated: ContainerRecord = {
      ...record,
      state: 'CONTAINER_EXITED',
      exitCode: exit.code,
      finishedAt: exit.atNanos.toString(),
      reason: oomKilled ? 'OOMKilled' : exit.code === 0 ? 'Completed' : 'Error',
      startedAt: record.startedAt === '0' && record.state === 'CONTAINER_RUNNING' ? nowNanos() : record.startedAt,
    };
    this.save(updated);
    this.publish('CONTAINER_STOPPED_EVENT', updated);
    this.deps.logger.info(`container ${record.id} exited`, { exitCode: exit.code, reason: updated.reason });
    return updated;
  }

  /** At start-up: fold in exits that happened while the daemon was down. */
  private reconcile(): void {
    for (const record of this.deps.store.listContainers<ContainerRecord>()) this.refresh(record);
  }

  private publish(type: LifecycleEventType, record: ContainerRecord): void {
    this.deps.events.publish({ type, containerId: record.id, sandboxId: record.sandboxId, createdAtNanos: nowNanosBigint() });
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

  private runtimePaths(paths: ContainerRecord['paths'], logPath: string): ContainerRuntimePaths {
    return { bundle: paths.bundle, persistDir: paths.persistDir, exitDir: paths.exitDir, socketDir: paths.socketDir, logPath };
  }
}

/** The resources in force after an update: what was set before, overridden by what the update sets. */
function mergeResources(before: LinuxContainerResources__Output | null, update: LinuxContainerResources__Output): LinuxContainerResources__Output {
  if (!before) return update;
  const merged: Record<string, unknown> = { ...before };
  for (const [key, value] of Object.entries(update)) {
    const unset = value === '' || value === '0' || value === null || (Array.isArray(value) && value.length === 0) || (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0);
    if (!unset) merged[key] = value;
  }
  return merged as unknown as LinuxContainerResources__Output;
}

/** A container that names no namespace options shares the pod's (as kubelet always spells out). */
function withPodNamespaceOptions(config: ContainerConfig__Output, sandbox: SandboxRecord): ContainerConfig__Output {
  const own = config.linux?.security_context?.namespace_options;
  const pods = sandbox.config.linux?.security_context?.namespace_options;
  if (own || !pods) return config;
  const linux = config.linux ?? { resources: null, security_context: null };
  const securityContext = linux.security_context ?? emptySecurityContext();
  return { ...config, linux: { ...linux, security_context: { ...securityContext, namespace_options: pods } } };
}

/** The container's log file: log_directory + log_path, which must stay inside the directory. */
export function containerLogPath(logDirectory: string, logPath: string, name: string): string {
  if (logDirectory === '' || logPath === '') {
    if (logPath !== '' && path.isAbsolute(logPath)) {
      throw new InvalidArgumentError(`log path "${logPath}" of container "${name}" must be relative to the sandbox's log directory`);
    }
    return '/dev/null';
  }
  const resolved = path.resolve(logDirectory, logPath);
  if (path.isAbsolute(logPath) || !resolved.startsWith(`${path.resolve(logDirectory)}/`)) {
    throw new InvalidArgumentError(`log path "${logPath}" of container "${name}" escapes the sandbox's log directory ${logDirectory}`);
  }
  return resolved;
}

function stateWord(state: ContainerRecord['state']): string {
  return state.replace('CONTAINER_', '').toLowerCase();
}

function readIfExists(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** "10MB", "512KiB", "-1" → bytes (-1: unlimited). */
export function parseSize(text: string): number {
  const match = /^(-1|\d+(?:\.\d+)?)\s*([kKmMgG]?)(i?)[bB]?$/.exec(text.trim());
  if (!match || match[1] === '-1') return -1;
  const base = match[3] === 'i' ? 1024 : 1000;
  const power = { '': 0, k: 1, m: 2, g: 3 }[(match[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.floor(Number(match[1]) * base ** power);
}
