import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type { ContainerRuntimePaths } from '../runtime/runtime-registry';
import type { DaemonConfig } from '../tokens';
import type { ContainerRecord } from './container-record';

// Where a container keeps its files, the same for an app container and a pod's pause container:
// runtime state (bundle, mounted rootfs, the supervisor's files, the attach socket) under
// `<state>/containers/<id>`, which is lost on reboot like the processes it describes; the
// writable layer under `<graph>/containers/<id>`; the exit file in the one watched exit directory.

export function newContainerId(): string {
  return randomBytes(32).toString('hex');
}

/** The directory conmon writes exit files into, one per container, named by its ID. */
export function exitDirectory(config: Pick<DaemonConfig, 'state'>): string {
  return path.join(config.state, 'exits');
}

export interface ContainerDirs {
  /** Removed whole when the container goes: everything under it is the container's alone. */
  readonly stateDir: string;
  readonly graphDir: string;
  readonly paths: ContainerRecord['paths'];
}

export function containerDirs(config: Pick<DaemonConfig, 'state' | 'graph'>, id: string): ContainerDirs {
  const stateDir = path.join(config.state, 'containers', id);
  const graphDir = path.join(config.graph, 'containers', id);
  return {
    stateDir,
    graphDir,
    paths: {
      bundle: path.join(stateDir, 'bundle'),
      rootfs: path.join(stateDir, 'rootfs'),
      persistDir: path.join(stateDir, 'persist'),
      exitDir: exitDirectory(config),
      socketDir: path.join(stateDir, 'attach'),
      upper: path.join(graphDir, 'upper'),
      work: path.join(graphDir, 'work'),
    },
  };
}

/** What the runtime's supervisor needs of the paths: the rootfs is named in the spec instead. */
export function runtimePaths(paths: ContainerRecord['paths'], logPath: string): ContainerRuntimePaths {
  return { bundle: paths.bundle, persistDir: paths.persistDir, exitDir: paths.exitDir, socketDir: paths.socketDir, logPath };
}
