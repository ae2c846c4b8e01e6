import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ImageRecord } from '../images/image-records';
import { buildContainerSpec, type ContainerSpecInput } from '../oci/build-container-spec';
import type { Undo } from '../pods/undo';
import type { CreateContainerOptions, OciRuntime } from '../runtime/runtime-registry';
import type { CgroupDriver, DaemonConfig, ImageService } from '../tokens';
import { killPoint } from '../crash/kill-point';
import { runtimePaths, type ContainerDirs } from './container-paths';
import { writeCreateIntent } from './container-intent';
import { mountRootfs, unmountRootfs } from './container-rootfs';
import { hostFacts, hostPathAccess, localhostSeccompProfiles } from './host-facts';

// The steps every container takes to exist in the runtime, an app container and a pod's pause
// container alike: its directories, the image mounted as its rootfs, the OCI spec built and
// written into the bundle, then the runtime's create under its supervisor (conmon). What differs
// between the two (names, config, the pod's namespaces, image users) is the caller's part of the
// spec. The container is created, not started.
//
// Crash safety: the state directory, with its intent.json, is made first and durably, so that a
// daemon killed at any later step leaves a trace recovery finds (a container directory no record
// owns is rolled back at start-up: core/containers/container-recovery.ts).

export interface CreateInRuntimeDependencies {
  readonly config: DaemonConfig;
  readonly images: ImageService;
  readonly driver: CgroupDriver;
}

/** The spec input that is the caller's to give; the rest (paths, cgroup, host facts) is filled in here. */
export type ContainerSpecParts = Pick<ContainerSpecInput, 'containerName' | 'config' | 'sandboxConfig' | 'sandbox' | 'image' | 'imageUsers'>;

export interface CreateInRuntimeRequest {
  readonly id: string;
  readonly image: ImageRecord;
  readonly dirs: ContainerDirs;
  /** The pod's cgroup: the container's cgroup goes under it, and the supervisor may be placed in it. */
  readonly podCgroup: string;
  readonly logPath: string;
  readonly io: Pick<CreateContainerOptions, 'terminal' | 'stdin' | 'stdinOnce' | 'logSizeMax'>;
  /** Asked once the rootfs is mounted, since an app container reads its image's users from it. */
  readonly spec: (rootfs: string) => ContainerSpecParts;
}

export interface CreatedInRuntime {
  readonly pid: number;
  readonly cgroupsPath: string;
}

/**
 * Creates the container in the runtime. Each step that made something pushes how to unmake it
 * onto `undo`, so the caller can roll back this and its own later steps as one. A caller that
 * has its own complete teardown (the pause container's stop) passes none.
 */
export async function createInRuntime(deps: CreateInRuntimeDependencies, runtime: OciRuntime, request: CreateInRuntimeRequest, undo?: Pick<Undo, 'push'>): Promise<CreatedInRuntime> {
  const { id, dirs } = request;
  const { paths } = dirs;
  const cgroupsPath = deps.driver.containerCgroupsPath(request.podCgroup, id);
  fs.mkdirSync(paths.bundle, { recursive: true, mode: 0o700 });
  undo?.push(() => fs.rmSync(dirs.stateDir, { recursive: true, force: true }));
  undo?.push(() => fs.rmSync(dirs.graphDir, { recursive: true, force: true }));
  await writeCreateIntent(dirs.stateDir, { operation: 'create', id, runtime: runtime.name, graphDir: dirs.graphDir });
  killPoint('container-dirs-made');
  await mountRootfs(deps.images.lowerDirs(request.image), paths.upper, paths.work, paths.rootfs);
  undo?.push(() => unmountRootfs(paths.rootfs));
  killPoint('container-rootfs-mounted');

  const spec = buildContainerSpec({
    containerId: id,
    ...request.spec(paths.rootfs),
    rootfsPath: paths.rootfs,
    cgroupsPath,
    host: hostFacts(),
    hostPaths: hostPathAccess(),
    seccompProfiles: localhostSeccompProfiles(deps.config),
  });
  fs.writeFileSync(path.join(paths.bundle, 'config.json'), JSON.stringify(spec), { mode: 0o600 });
  killPoint('container-spec-written');

  fs.mkdirSync(path.dirname(request.logPath), { recursive: true });
  // Pushed before the create: a create that fails or times out half-way (conmon ran runc create,
  // then something broke) may still have left runtime state and a conmon behind.
  undo?.push(async () => {
    await runtime.delete(id);
    await deps.driver.releaseContainer?.(id);
  });
  const { pid } = await runtime.create({ id, paths: runtimePaths(paths, request.logPath), ...request.io, podCgroup: request.podCgroup });
  killPoint('container-created-in-runtime');
  return { pid, cgroupsPath };
}
