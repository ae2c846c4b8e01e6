import * as fs from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { PodSandboxConfig__Output } from '../cri/generated/runtime/v1/PodSandboxConfig';
import type { ContainerConfig__Output } from '../cri/generated/runtime/v1/ContainerConfig';
import { containerDirs, newContainerId } from '../containers/container-paths';
import { unmountRootfs } from '../containers/container-rootfs';
import { createInRuntime } from '../containers/create-in-runtime';
import { emptyContainerConfig, emptySecurityContext } from '../containers/empty-configs';
import { describeError } from '../errors';
import { EMPTY_IMAGE_USERS } from '../oci/image-users';
import type { OciRuntime } from '../runtime/runtime-registry';
import type { CgroupDriver, DaemonConfig, ImageService, Logger } from '../tokens';
import type { PauseContainer, SandboxRecord } from './sandbox-record';

export type { PauseContainer } from './sandbox-record';

// The pause container: with `pod-sandbox-image` set, a pod that shares one PID namespace gets it
// from a pause container (the image's own entrypoint, normally /pause) instead of the small
// unshare holder. It runs like any container (conmon + the pod's runtime) in the pod's pinned
// network, IPC and UTS namespaces and in its own new PID namespace, which the pod's containers
// then join. Ending it ends that namespace and every process in it.

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

/** The pause container a sandbox is about to make, named before anything exists (for its intent). */
export function plannedPauseContainer(config: DaemonConfig, runtime: Pick<OciRuntime, 'name'>): PauseContainer {
  const id = newContainerId();
  const dirs = containerDirs(config, id);
  return { id, imageId: '', pid: 0, runtimeName: runtime.name, stateDir: dirs.stateDir, graphDir: dirs.graphDir, rootfs: dirs.paths.rootfs };
}

export async function startPauseContainer(deps: PauseDependencies, runtime: OciRuntime, pod: PodFacts, planned = plannedPauseContainer(deps.config, runtime)): Promise<PauseContainer> {
  const imageName = deps.config.podSandboxImage;
  const image = deps.images.find(imageName) ?? (await deps.images.pull(imageName, {}));
  const id = planned.id;
  const dirs = containerDirs(deps.config, id);
  const pause: PauseContainer = { ...planned, imageId: image.id };
  try {
    // No undo list: stopPauseContainer below takes down all that createInRuntime made, and
    // also a pause container that was created but failed to start.
    const { pid } = await createInRuntime(deps, runtime, {
      id,
      image,
      dirs,
      podCgroup: pod.cgroup.path,
      logPath: '/dev/null',
      io: { terminal: false, stdin: false, stdinOnce: false, logSizeMax: -1 },
      spec: () => ({
        containerName: 'POD',
        config: pauseContainerConfig(imageName, pod.podConfig),
        sandboxConfig: pod.podConfig,
        sandbox: { id: pod.id, hostname: pod.hostname, namespaces: pod.namespaces, files: pod.files },
        image: { id: image.id, name: imageName, config: image.config.config ?? {} },
        imageUsers: EMPTY_IMAGE_USERS,
      }),
    });
    await runtime.start(id);
    deps.logger.info(`pause container ${id} runs for sandbox ${pod.id}`, { image: imageName, pid });
    return { ...pause, pid };
  } catch (error) {
    await stopPauseContainer(runtime, pause, deps.logger, deps.driver);
    throw new Error(`pause container from ${imageName} did not start: ${describeError(error)}`, { cause: error });
  }
}

/** The pause container's CRI config: the pod's network and IPC namespace modes, a PID namespace of its own, no privileges. */
function pauseContainerConfig(imageName: string, podConfig: PodSandboxConfig__Output): ContainerConfig__Output {
  const config = emptyContainerConfig('POD', imageName);
  const podOptions = podConfig.linux?.security_context?.namespace_options;
  config.linux = {
    resources: null,
    security_context: {
      ...emptySecurityContext(),
      namespace_options: { network: podOptions?.network ?? 'POD', ipc: podOptions?.ipc ?? 'POD', pid: 'CONTAINER', target_id: '', userns_options: null },
      no_new_privs: true,
      capabilities: { add_capabilities: [], drop_capabilities: ['ALL'], add_ambient_capabilities: [] },
    },
  };
  return config;
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
