import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { PodSandboxConfig__Output } from '../cri/generated/runtime/v1/PodSandboxConfig';
import { mountRootfs, unmountRootfs } from '../containers/container-rootfs';
import { emptyContainerConfig, emptySecurityContext } from '../containers/empty-configs';
import { hostFacts, hostPathAccess, localhostSeccompProfiles } from '../containers/host-facts';
import { describeError } from '../errors';
import { buildContainerSpec } from '../oci/build-container-spec';
import { EMPTY_IMAGE_USERS } from '../oci/image-users';
import type { OciRuntime } from '../runtime/runtime-registry';
import type { CgroupDriver, DaemonConfig, ImageService, Logger } from '../tokens';
import type { SandboxRecord } from './sandbox-record';

// The pause container: with `pod-sandbox-image` set, a pod that shares one PID namespace gets it
// from a pause container (the image's own entrypoint, normally /pause) instead of the small
// unshare holder. It runs like any container (conmon + the pod's runtime) in the pod's pinned
// network, IPC and UTS namespaces and in its own new PID namespace, which the pod's containers
// then join. Ending it ends that namespace and every process in it.

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

export interface PauseDependencies {
  readonly config: DaemonConfig;
  readonly images: ImageService;
  readonly driver: CgroupDriver;
  readonly logger: Logger;
}

type PodFacts = Pick<SandboxRecord, 'id' | 'files' | 'cgroup'> & {
  readonly hostname: string;
  readonly namespaces: Pick<SandboxRecord['namespaces'], 'network' | 'ipc' | 'uts'>;
  readonly podConfig: PodSandboxConfig__Output;
};

const EXIT_WAIT_MS = 10_000;

export async function startPauseContainer(deps: PauseDependencies, runtime: OciRuntime, pod: PodFacts): Promise<PauseContainer> {
  const imageName = deps.config.podSandboxImage;
  const image = deps.images.find(imageName) ?? (await deps.images.pull(imageName, {}));
  const id = randomBytes(32).toString('hex');
  const stateDir = path.join(deps.config.state, 'containers', id);
  const graphDir = path.join(deps.config.graph, 'containers', id);
  const paths = {
    bundle: path.join(stateDir, 'bundle'),
    rootfs: path.join(stateDir, 'rootfs'),
    persistDir: path.join(stateDir, 'persist'),
    exitDir: path.join(deps.config.state, 'exits'),
    socketDir: path.join(stateDir, 'attach'),
    logPath: '/dev/null',
  };
  const pause: PauseContainer = { id, imageId: image.id, pid: 0, runtimeName: runtime.name, stateDir, graphDir, rootfs: paths.rootfs };
  try {
    fs.mkdirSync(paths.bundle, { recursive: true, mode: 0o700 });
    await mountRootfs(deps.images.lowerDirs(image), path.join(graphDir, 'upper'), path.join(graphDir, 'work'), paths.rootfs);
    const config = emptyContainerConfig('POD', imageName);
    const podOptions = pod.podConfig.linux?.security_context?.namespace_options;
    config.linux = {
      resources: null,
      security_context: {
        ...emptySecurityContext(),
        namespace_options: { network: podOptions?.network ?? 'POD', ipc: podOptions?.ipc ?? 'POD', pid: 'CONTAINER', target_id: '', userns_options: null },
        no_new_privs: true,
        capabilities: { add_capabilities: [], drop_capabilities: ['ALL'], add_ambient_capabilities: [] },
      },
    };
    const spec = buildContainerSpec({
      containerId: id,
      containerName: 'POD',
      config,
      sandboxConfig: pod.podConfig,
      sandbox: { id: pod.id, hostname: pod.hostname, namespaces: pod.namespaces, files: pod.files },
      image: { id: image.id, name: imageName, config: image.config.config ?? {} },
      imageUsers: EMPTY_IMAGE_USERS,
      rootfsPath: paths.rootfs,
      cgroupsPath: deps.driver.containerCgroupsPath(pod.cgroup.path, id),
      host: hostFacts(),
      hostPaths: hostPathAccess(),
      seccompProfiles: localhostSeccompProfiles(deps.config),
    });
    fs.writeFileSync(path.join(paths.bundle, 'config.json'), JSON.stringify(spec), { mode: 0o600 });
    const { pid } = await runtime.create({ id, paths, terminal: false, stdin: false, stdinOnce: false, logSizeMax: -1, podCgroup: pod.cgroup.path });
    await runtime.start(id);
    deps.logger.info(`pause container ${id} runs for sandbox ${pod.id}`, { image: imageName, pid });
    return { ...pause, pid };
  } catch (error) {
    await stopPauseContainer(runtime, pause, deps.logger, deps.driver);
    throw new Error(`pause container from ${imageName} did not start: ${describeError(error)}`, { cause: error });
  }
}

/** Kills and deletes the pause container and removes what it used; safe to repeat. */
export async function stopPauseContainer(runtime: OciRuntime, pause: PauseContainer, logger: Logger, driver?: Pick<CgroupDriver, 'releaseContainer'>): Promise<void> {
  try {
    const state = await runtime.state(pause.id);
    if (state && state.status !== 'stopped') {
      await runtime.kill(pause.id, 'SIGKILL', true);
      for (let waited = 0; waited < EXIT_WAIT_MS && (await runtime.state(pause.id))?.status === 'running'; waited += 50) await delay(50);
    }
    await runtime.delete(pause.id);
    await driver?.releaseContainer?.(pause.id);
  } catch (error) {
    logger.warn(`pause container ${pause.id}: ${describeError(error)}`);
  }
  await unmountRootfs(pause.rootfs);
  fs.rmSync(pause.stateDir, { recursive: true, force: true });
  fs.rmSync(pause.graphDir, { recursive: true, force: true });
}
