import * as fs from 'node:fs';
import * as path from 'node:path';
import { logRecovery } from '../crash/recovery-log';
import { describeError } from '../errors';
import type { SandboxRecord } from '../pods/sandbox-record';
import type { OciRuntime } from '../runtime/runtime-registry';
import type { CgroupDriver, DaemonConfig, Logger, MetadataStore, RuntimeRegistry } from '../tokens';
import { readCreateIntent } from './container-intent';
import { containerDirs } from './container-paths';
import type { ContainerRecord } from './container-record';
import { unmountRootfs } from './container-rootfs';
import type { ExitTracker } from './exit-tracker';
import { conmonPid } from './runtime-truth';
import { clearStopMarker } from './stop-marker';

// Recovery of containers at start-up, after the exit tracker has folded in the exits that
// happened while the daemon was down. What a killed daemon can have left, and what becomes of it:
// - a container directory under <state>/containers that no record owns (a CreateContainer killed
//   before its record): rolled back: runtime state, conmon, rootfs mount, directories, exit file;
// - runtime state (`<state>/runtimes/<name>/<id>`) of an ID no record owns: deleted;
// - a record marked `removing` (RemoveContainer begun): the remove is completed;
// - a RUNNING record marked `stopping` (StopContainer begun): the stop is completed;
// - a RUNNING or CREATED record without an exit file: settled with the runtime's real state.
// A pod's pause container lives in <state>/containers too; its sandbox record owns it.

export interface ContainerRecoveryDependencies {
  readonly config: DaemonConfig;
  readonly store: MetadataStore;
  readonly driver: CgroupDriver;
  readonly runtimes: RuntimeRegistry;
  readonly logger: Logger;
  readonly exits: Pick<ExitTracker, 'exitFile'>;
}

export interface ContainerRecoveryActions {
  /** Completes a begun stop (`stop`) or remove of a recorded container. */
  complete(id: string, stop: boolean): Promise<void>;
  /** The record as the runtime's real state makes it. */
  settle(record: ContainerRecord): Promise<ContainerRecord>;
}

export async function recoverContainers(deps: ContainerRecoveryDependencies, actions: ContainerRecoveryActions): Promise<void> {
  const records = deps.store.listContainers<ContainerRecord>();
  const known = new Set(records.map((record) => record.id));
  for (const sandbox of deps.store.listSandboxes<SandboxRecord>()) if (sandbox.pause) known.add(sandbox.pause.id);

  for (const id of entries(path.join(deps.config.state, 'containers'))) {
    if (!known.has(id)) await rollBackCreate(deps, id);
  }
  for (const name of entries(path.join(deps.config.state, 'runtimes'))) {
    const runtime = runtimeNamed(deps.runtimes, name);
    for (const id of entries(path.join(deps.config.state, 'runtimes', name))) {
      if (known.has(id) || !runtime) continue;
      await runtime.delete(id).catch((error: unknown) => deps.logger.warn(`recovery: runtime state of unknown container ${id}: ${describeError(error)}`));
      await deps.driver.releaseContainer?.(id).catch(() => undefined);
      logRecovery(deps.logger, `container ${id}`, 'removed', `runtime "${name}" had state for it but no record names it`);
    }
  }
  for (const record of records) {
    await recoverRecord(deps, actions, record).catch((error: unknown) => deps.logger.error(`recovery: container ${record.id} could not be recovered: ${describeError(error)}`));
  }
}

async function recoverRecord(deps: ContainerRecoveryDependencies, actions: ContainerRecoveryActions, given: ContainerRecord): Promise<void> {
  const object = `container ${given.id}`;
  if (given.removing) {
    await actions.complete(given.id, false);
    logRecovery(deps.logger, object, 'completed', 'RemoveContainer had begun (record marked removing)');
    return;
  }
  const record = deps.store.getContainer<ContainerRecord>(given.id) ?? given;
  // A stop the daemon died in whose container has exited since (its exit was just folded in).
  if (clearStopMarker(deps.store, record.id)) logRecovery(deps.logger, object, 'completed', `StopContainer had begun; the container has exited (exit code ${record.exitCode})`);
  if (record.state !== 'CONTAINER_RUNNING' && record.state !== 'CONTAINER_CREATED') return;
  const settled = await actions.settle(record);
  if (settled.state !== record.state) {
    const what = settled.state === 'CONTAINER_RUNNING' ? 'recorded created, but the runtime runs it (started before the daemon died)' : settled.message;
    logRecovery(deps.logger, object, 'completed', `${what}; now ${settled.state}`);
  }
  if (settled.state === 'CONTAINER_RUNNING' && settled.stopping) {
    await actions.complete(settled.id, true);
    clearStopMarker(deps.store, settled.id);
    logRecovery(deps.logger, object, 'completed', 'StopContainer had begun (record marked stopping); killed');
  }
}

/** Undoes a create that never recorded its container: every part, the state directory (the trace) last. */
async function rollBackCreate(deps: ContainerRecoveryDependencies, id: string): Promise<void> {
  const dirs = containerDirs(deps.config, id);
  const intent = readCreateIntent(dirs.stateDir);
  const found: string[] = [];
  const candidates = intent ? [runtimeNamed(deps.runtimes, intent.runtime)] : deps.runtimes.names().map((name) => runtimeNamed(deps.runtimes, name));
  for (const runtime of candidates) {
    if (!runtime) continue;
    const state = await runtime.state(id).catch(() => undefined);
    if (state) found.push(`runtime state (${state.status})`);
    await runtime.delete(id);
  }
  const conmon = conmonPid({ paths: dirs.paths });
  if (conmon !== undefined) {
    found.push(`conmon ${conmon}`);
    try {
      process.kill(conmon, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  await deps.driver.releaseContainer?.(id);
  if (fs.existsSync(dirs.paths.rootfs) && isMounted(dirs.paths.rootfs)) found.push('rootfs mount');
  await unmountRootfs(dirs.paths.rootfs);
  fs.rmSync(intent?.graphDir ?? dirs.graphDir, { recursive: true, force: true });
  fs.rmSync(deps.exits.exitFile(id), { force: true });
  fs.rmSync(dirs.stateDir, { recursive: true, force: true });
  found.push('its directories');
  logRecovery(deps.logger, `container ${id}`, 'rolled back', `CreateContainer did not record it; removed ${found.join(', ')}`);
}

function runtimeNamed(runtimes: RuntimeRegistry, name: string): OciRuntime | undefined {
  return runtimes.names().includes(name) ? runtimes.forHandler(name) : undefined;
}

function entries(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function isMounted(target: string): boolean {
  return fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').some((line) => line.split(' ')[1] === target);
}
