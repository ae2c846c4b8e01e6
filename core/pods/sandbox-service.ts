import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { PodSandboxConfig__Output } from '../cri/generated/runtime/v1/PodSandboxConfig';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, describeError } from '../errors';
import type { CgroupDriver, DaemonConfig, EventBus, ImageService, Logger, MetadataStore, NetworkPlugin, ObjectLocks, PodNetworkRequest, RuntimeRegistry, SandboxService as SandboxServiceContract } from '../tokens';
import type { LifecycleEventType } from '../tokens';
import { nowNanos, nowNanosText } from '../clock/unix-nanos';
import { plannedPauseContainer, startPauseContainer, stopPauseContainer } from './pause-container';
import { pidHolderAlive, startPidHolder, stopPidHolder } from './pid-holder';
import { checkDnsConfig, hostnameFile, hostsFile, resolvConf } from './pod-files';
import { checkPortMappings } from './port-mappings';
import { podHostname } from './pod-hostname';
import { checkHostPath } from './host-path-rules';
import { findByPrefix } from '../store/find-by-prefix';
import { checkLabelsAndAnnotations, checkName } from '../cri/object-limits';
import { checkSysctls, namespaceFile, pinAndSetUpNamespaces, unpinNamespaces, type PinnedKind } from './pinned-namespaces';
import type { SandboxRecord } from './sandbox-record';
import { Undo } from './undo';
import { killPoint } from '../crash/kill-point';
import { KeyedLock } from '../locks/keyed-lock';
import { clearIntent, writeIntent } from './sandbox-intent';
import { logRecovery } from '../crash/recovery-log';
import { recoverSandboxes } from './sandbox-recovery';

// Pod sandboxes without an infra container: the pod's namespaces are pinned files, its
// /etc/hostname, /etc/hosts, /etc/resolv.conf and /dev/shm are made here, and a PID namespace
// holder (the pause container when `pod-sandbox-image` is set) runs only when the pod shares
// one PID namespace. Every step of RunPodSandbox is undone
// if a later one fails; the record is written (durably) only when the sandbox is whole.
// Against a kill of the daemon: RunPodSandbox writes an intent (sandbox-intent.ts) before it
// makes anything, and Stop/RemovePodSandbox mark the record `pending` first, so recovery at
// start-up (sandbox-recovery.ts) rolls back or completes whatever was in flight. Operations on
// one pod name or one sandbox are serialised by ObjectLocks; others run side by side.

/** What the container side must do when a pod stops or goes away. */
export interface PodContainers {
  stopAll(sandboxId: string): Promise<void>;
  removeAll(sandboxId: string): Promise<void>;
}

export class SandboxService implements SandboxServiceContract {
  private containers: PodContainers | undefined;

  constructor(
    private readonly config: DaemonConfig,
    private readonly store: MetadataStore,
    private readonly driver: CgroupDriver,
    private readonly runtimes: RuntimeRegistry,
    private readonly images: ImageService,
    private readonly logger: Logger,
    /** The network plugin, when one is bound (pods get loopback only otherwise). */
    private readonly network: () => NetworkPlugin | undefined = () => undefined,
    private readonly events?: EventBus,
    private readonly locks: ObjectLocks = new KeyedLock(),
  ) {}

  private publish(type: LifecycleEventType, sandboxId: string): void {
    this.events?.publish({ type, containerId: sandboxId, sandboxId, createdAtNanos: nowNanos() });
  }

  /** The container service, once it exists (it needs this service first). */
  attachContainers(containers: PodContainers): void {
    this.containers = containers;
  }

  async run(config: PodSandboxConfig__Output, runtimeHandler: string): Promise<SandboxRecord> {
    const metadata = config.metadata;
    if (!metadata || metadata.name === '' || metadata.namespace === '' || metadata.uid === '') {
      throw new InvalidArgumentError('RunPodSandbox needs metadata with name, namespace and uid');
    }
    checkName(metadata.name, 'config.metadata.name');
    checkName(metadata.namespace, 'config.metadata.namespace');
    checkName(metadata.uid, 'config.metadata.uid');
    checkLabelsAndAnnotations(config, 'config');
    if (config.log_directory !== '') checkHostPath(config.log_directory, `config.log_directory of pod ${metadata.namespace}/${metadata.name}`, this.config);
    const key = `${metadata.name}_${metadata.namespace}_${metadata.uid}_${metadata.attempt}`;
    // Held from the duplicate check to the record write: without it two calls with one name
    // both pass the check many awaits before either records its sandbox.
    const pod = `${metadata.namespace}/${metadata.name}`;
    return this.locks.exclusive(`pod-name:${key}`, () => this.runLocked(config, runtimeHandler, key, pod));
  }

  private async runLocked(config: PodSandboxConfig__Output, runtimeHandler: string, key: string, pod: string): Promise<SandboxRecord> {
    const clash = this.list().find((s) => s.key === key);
    if (clash) throw new AlreadyExistsError(`sandbox name "${key}" is already used by sandbox ${clash.id}`);
    const runtime = this.runtimes.forHandler(runtimeHandler);

    const id = randomBytes(32).toString('hex');
    const options = config.linux?.security_context?.namespace_options;
    const hostNetwork = options?.network === 'NODE';
    const hostIpc = options?.ipc === 'NODE';
    const pidMode = options?.pid ?? 'POD';
    checkSysctls(config.linux?.sysctls ?? {}, hostNetwork, hostIpc);
    if (!hostNetwork) checkDnsConfig(config.dns_config);
    checkPortMappings(config.port_mappings);
    const cgroup = this.driver.podCgroup(id, config.linux?.cgroup_parent ?? '');
    const dir = path.join(this.config.state, 'sandboxes', id);
    const hostname = podHostname(config.hostname, os.hostname());
    const network = hostNetwork ? undefined : this.network();
    const request = network ? this.networkRequest(id, config, namespaceFile(dir, 'net')) : undefined;
    const withPause = pidMode === 'POD' && this.config.podSandboxImage !== '';
    const planned = withPause ? plannedPauseContainer(this.config, runtime) : undefined;

    const undo = new Undo(this.logger, `sandbox ${id}`);
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o711 });
      undo.push(() => fs.rmSync(dir, { recursive: true, force: true }));
      await writeIntent(dir, {
        op: 'RunPodSandbox',
        id,
        key,
        cgroup,
        ...(hostIpc ? {} : { shm: path.join(dir, 'shm') }),
        ...(request ? { network: request } : {}),
        ...(planned ? { pause: planned } : {}),
        pidHolder: pidMode === 'POD' && !withPause,
      });
      const files = {
        hostname: path.join(dir, 'hostname'),
        hosts: path.join(dir, 'hosts'),
        resolvConf: path.join(dir, 'resolv.conf'),
        shm: hostIpc ? '/dev/shm' : path.join(dir, 'shm'),
      };
      fs.writeFileSync(files.hostname, hostnameFile(hostname), { mode: 0o644 });
      fs.writeFileSync(files.hosts, hostNetwork ? fs.readFileSync('/etc/hosts', 'utf8') : hostsFile(hostname), { mode: 0o644 });
      const hostResolv = fs.existsSync('/etc/resolv.conf') ? fs.readFileSync('/etc/resolv.conf', 'utf8') : '';
      fs.writeFileSync(files.resolvConf, hostNetwork ? hostResolv : resolvConf(config.dns_config, hostResolv), { mode: 0o644 });
      killPoint('sandbox-dir-made');
      const kinds: PinnedKind[] = [...(hostNetwork ? [] : (['net'] as const)), ...(hostIpc ? [] : (['ipc'] as const)), ...(hostNetwork ? [] : (['uts'] as const))];
      const shm = hostIpc ? undefined : files.shm;
      undo.push(() => unpinNamespaces(dir, shm));
      await pinAndSetUpNamespaces(dir, kinds, { hostname, sysctls: config.linux?.sysctls ?? {}, ...(shm !== undefined ? { shm } : {}) });
      killPoint('sandbox-namespaces-pinned');

      let ips: readonly string[] = [];
      if (network && request) {
        // DEL is tried even after a failed ADD: the plugin may have made part of the wiring.
        undo.push(() => network.tearDownPod(request));
        ips = (await network.setUpPod(request)).ips;
      }
      killPoint('sandbox-network-set-up');

      let pidHolder: SandboxRecord['pidHolder'];
      let pause: SandboxRecord['pause'];
      if (planned) {
        const podNamespaces = {
          network: hostNetwork ? 'host' : namespaceFile(dir, 'net'),
          ipc: hostIpc ? 'host' : namespaceFile(dir, 'ipc'),
          uts: hostNetwork ? 'host' : namespaceFile(dir, 'uts'),
        };
        const deps = { config: this.config, images: this.images, driver: this.driver, logger: this.logger };
        pause = await startPauseContainer(deps, runtime, { id, files, cgroup, hostname, namespaces: podNamespaces, podConfig: config }, planned);
        const started = pause;
        undo.push(() => stopPauseContainer(runtime, started, this.logger, this.driver));
      } else if (pidMode === 'POD') {
        pidHolder = await startPidHolder(dir);
        const holder = pidHolder;
        undo.push(() => stopPidHolder(holder));
      }
      killPoint('sandbox-pid-holder-started');

      const record: SandboxRecord = {
        id,
        key,
        config,
        runtimeHandler,
        runtimeName: runtime.name,
        createdAt: nowNanosText(),
        state: 'SANDBOX_READY',
        dir,
        namespaces: {
          network: hostNetwork ? 'host' : namespaceFile(dir, 'net'),
          ipc: hostIpc ? 'host' : namespaceFile(dir, 'ipc'),
          uts: hostNetwork ? 'host' : namespaceFile(dir, 'uts'),
          ...(pidMode === 'NODE' ? { pid: 'host' } : pidHolder ? { pid: pidHolder.namespacePath } : pause ? { pid: `/proc/${pause.pid}/ns/pid` } : {}),
        },
        ...(pidHolder ? { pidHolder } : {}),
        ...(pause ? { pause } : {}),
        cgroup,
        files,
        ips,
      };
      this.store.putSandbox(id, record);
      killPoint('sandbox-recorded');
      // Past the point of no return: recovery now completes this sandbox instead of undoing it.
      await clearIntent(dir);
      this.publish('CONTAINER_CREATED_EVENT', id);
      this.publish('CONTAINER_STARTED_EVENT', id);
      this.logger.info(`sandbox ${id} ready`, { pod, runtime: runtime.name });
      return record;
    } catch (error) {
      await undo.run();
      throw error;
    }
  }

  get(id: string): SandboxRecord {
    const found = this.find(id);
    if (!found) throw new NotFoundError(`sandbox ${id} not found`);
    return found;
  }

  /** By full ID or a unique prefix of one. */
  find(id: string): SandboxRecord | undefined {
    if (id === '') return undefined;
    return findByPrefix(id, this.store.getSandbox<SandboxRecord>(id), () => this.list(), 'sandbox');
  }

  list(): SandboxRecord[] {
    return this.store.listSandboxes<SandboxRecord>();
  }

  /** Stops every container, ends the PID holder, unpins namespaces and shm. Idempotent. */
  async stop(id: string): Promise<void> {
    const full = this.get(id).id;
    // Re-read under the lock: a RemovePodSandbox that held it may have removed the sandbox.
    await this.locks.exclusive(`sandbox:${full}`, () => this.completeStop(this.get(full)));
  }

  /** The stop, marked first so that recovery finishes it after a kill (also called by recovery). */
  async completeStop(sandbox: SandboxRecord): Promise<void> {
    if (sandbox.pending === undefined) this.store.putSandbox(sandbox.id, { ...sandbox, pending: 'stop' });
    killPoint('sandbox-stop-marked');
    await this.stopParts(sandbox);
    const { pending: _done, ...stopped } = sandbox;
    this.store.putSandbox(sandbox.id, { ...stopped, state: 'SANDBOX_NOTREADY' });
    if (sandbox.state !== 'SANDBOX_NOTREADY') {
      this.publish('CONTAINER_STOPPED_EVENT', sandbox.id);
      this.logger.info(`sandbox ${sandbox.id} stopped`);
    }
  }

  /** Each step is idempotent, so a stop cut short by a kill can be run again from the start. */
  private async stopParts(sandbox: SandboxRecord): Promise<void> {
    await this.containers?.stopAll(sandbox.id);
    killPoint('sandbox-containers-stopped');
    const network = sandbox.namespaces.network === 'host' ? undefined : this.network();
    if (network) await network.tearDownPod(this.networkRequest(sandbox.id, sandbox.config, sandbox.namespaces.network));
    killPoint('sandbox-network-torn-down');
    if (sandbox.pidHolder) await stopPidHolder(sandbox.pidHolder);
    if (sandbox.pause) await stopPauseContainer(this.runtimes.forHandler(sandbox.pause.runtimeName), sandbox.pause, this.logger, this.driver);
    killPoint('sandbox-pid-holder-stopped');
    await unpinNamespaces(sandbox.dir, sandbox.files.shm !== '/dev/shm' ? sandbox.files.shm : undefined);
    killPoint('sandbox-namespaces-unpinned');
  }

  /** Stops, removes the pod's containers and everything the sandbox made. Idempotent. */
  async remove(id: string): Promise<void> {
    const found = this.find(id);
    if (!found) return;
    await this.locks.exclusive(`sandbox:${found.id}`, async () => {
      const sandbox = this.find(found.id);
      if (sandbox) await this.completeRemove(sandbox);
    });
  }

  /** The removal, marked first so that recovery finishes it after a kill (also called by recovery). */
  async completeRemove(sandbox: SandboxRecord): Promise<void> {
    if (sandbox.pending !== 'remove') this.store.putSandbox(sandbox.id, { ...sandbox, pending: 'remove' });
    killPoint('sandbox-remove-marked');
    await this.stopParts(sandbox);
    // A READY pod removed without a StopPodSandbox first is stopped on the way: recorded, and
    // announced, so event subscribers see STOPPED before DELETED as for any pod.
    if (sandbox.state !== 'SANDBOX_NOTREADY') {
      this.store.putSandbox(sandbox.id, { ...sandbox, pending: 'remove', state: 'SANDBOX_NOTREADY' });
      this.publish('CONTAINER_STOPPED_EVENT', sandbox.id);
      this.logger.info(`sandbox ${sandbox.id} stopped`);
    }
    await this.containers?.removeAll(sandbox.id);
    killPoint('sandbox-containers-removed');
    if (sandbox.cgroup.madeByCaisson) {
      await this.driver.removePodCgroup(sandbox.cgroup.path).catch((error: unknown) => {
        this.logger.warn(`pod cgroup ${sandbox.cgroup.path} was not removed: ${describeError(error)}`);
      });
    }
    killPoint('sandbox-cgroup-removed');
    // In the thread pool: a synchronous tree removal held the daemon's one thread for every pod.
    await fs.promises.rm(sandbox.dir, { recursive: true, force: true });
    killPoint('sandbox-dir-removed');
    this.store.deleteSandbox(sandbox.id);
    this.publish('CONTAINER_DELETED_EVENT', sandbox.id);
    this.logger.info(`sandbox ${sandbox.id} removed`);
  }

  /** The network plugin's check of a ready pod (CNI CHECK), for verbose status. */
  async checkNetwork(id: string): Promise<string> {
    const sandbox = this.get(id);
    if (sandbox.namespaces.network === 'host') return 'host network';
    if (sandbox.state !== 'SANDBOX_READY') return 'not ready';
    const network = this.network();
    if (!network?.checkPod) return 'no network plugin';
    try {
      return await network.checkPod(this.networkRequest(sandbox.id, sandbox.config, sandbox.namespaces.network));
    } catch (error) {
      return `failed: ${describeError(error)}`;
    }
  }

  private networkRequest(sandboxId: string, config: PodSandboxConfig__Output, netnsPath: string): PodNetworkRequest {
    return {
      sandboxId,
      name: config.metadata?.name ?? '',
      namespace: config.metadata?.namespace ?? '',
      uid: config.metadata?.uid ?? '',
      netnsPath,
      portMappings: config.port_mappings.map((m) => ({ protocol: m.protocol.toLowerCase(), containerPort: m.container_port, hostPort: m.host_port, hostIp: m.host_ip })),
      podCidr: this.store.getMeta('pod-cidr') ?? '',
    };
  }

  /**
   * At start-up, before the CRI is served: completes interrupted stops and removals, rolls back
   * interrupted RunPodSandbox calls, sweeps holders and pod cgroups no sandbox owns, then
   * reconciles READY sandboxes with the host (sandbox-recovery.ts).
   */
  async recover(): Promise<void> {
    await recoverSandboxes(this, { config: this.config, driver: this.driver, runtimes: this.runtimes, logger: this.logger, network: this.network });
    this.reconcile();
  }

  /** A READY sandbox whose namespaces or holder are gone (a reboot) is NOTREADY. */
  reconcile(): void {
    for (const sandbox of this.list()) {
      if (sandbox.state !== 'SANDBOX_READY') continue;
      const pinnedGone = sandbox.namespaces.network !== 'host' && !fs.existsSync(sandbox.namespaces.network);
      const holderGone =
        (sandbox.pidHolder !== undefined && !pidHolderAlive(sandbox.pidHolder)) ||
        (sandbox.pause !== undefined && !fs.existsSync(`/proc/${sandbox.pause.pid}`));
      if (pinnedGone || holderGone) {
        this.store.putSandbox(sandbox.id, { ...sandbox, state: 'SANDBOX_NOTREADY' });
        logRecovery(this.logger, `sandbox ${sandbox.id}`, 'completed', `it lost its ${pinnedGone ? 'pinned namespaces' : 'PID namespace holder'} while caissond was down (a reboot?); it is NOTREADY`);
      }
    }
  }
}
