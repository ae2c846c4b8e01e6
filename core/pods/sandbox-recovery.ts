import * as fs from 'node:fs';
import * as path from 'node:path';
import { logRecovery } from '../crash/recovery-log';
import { describeError } from '../errors';
import type { CgroupDriver, DaemonConfig, Logger, NetworkPlugin, RuntimeRegistry } from '../tokens';
import { stopPauseContainer } from './pause-container';
import { namespaceFile, unpinNamespaces } from './pinned-namespaces';
import { isMountPoint } from './pod-shm';
import { holderProcesses, killProcesses, removeStrayPodCgroups } from './sandbox-host-sweep';
import { clearIntent, readIntent, type RunIntent } from './sandbox-intent';
import type { SandboxRecord } from './sandbox-record';

// Sandbox recovery at start-up, before the CRI is served. A daemon killed in the middle of a
// sandbox RPC leaves one of three traces, each settled here with one `recovery:` log line:
// - a record marked `pending` (a StopPodSandbox or RemovePodSandbox had begun taking the pod
//   down, past the point of no return): the stop or removal is run again to its end;
// - a sandbox directory with an intent and no record (a RunPodSandbox that never answered):
//   everything the intent names is undone, CNI DEL first so host-local frees the IP;
// - a directory with both (killed between the record write and the intent's removal): the
//   sandbox is whole, only the intent goes.
// Then what no sandbox owns is swept: PID holders found by their arguments, pod cgroups.

export interface RecoverableSandboxes {
  list(): SandboxRecord[];
  completeStop(sandbox: SandboxRecord): Promise<void>;
  completeRemove(sandbox: SandboxRecord): Promise<void>;
}

export interface RecoveryDependencies {
  readonly config: Pick<DaemonConfig, 'state' | 'graph' | 'podSandboxImage'>;
  readonly driver: CgroupDriver;
  readonly runtimes: RuntimeRegistry;
  readonly logger: Logger;
  readonly network: () => NetworkPlugin | undefined;
}

export async function recoverSandboxes(sandboxes: RecoverableSandboxes, deps: RecoveryDependencies): Promise<void> {
  const { logger } = deps;
  for (const sandbox of sandboxes.list().filter((s) => s.pending !== undefined)) {
    const what = sandbox.pending === 'remove' ? 'RemovePodSandbox' : 'StopPodSandbox';
    try {
      if (sandbox.pending === 'remove') await sandboxes.completeRemove(sandbox);
      else await sandboxes.completeStop(sandbox);
      logRecovery(logger, `sandbox ${sandbox.id}`, 'completed', `${what} had begun (record marked ${sandbox.pending}); it is now ${sandbox.pending === 'remove' ? 'removed' : 'NOTREADY'}`);
    } catch (error) {
      logger.error(`recovery: sandbox ${sandbox.id}: completing the interrupted ${what} failed: ${describeError(error)}; the record stays marked, the next ${what} retries`);
    }
  }

  const sandboxesDir = path.join(deps.config.state, 'sandboxes');
  const known = new Set(sandboxes.list().map((s) => s.id));
  const holders = holderProcesses(sandboxesDir);
  for (const entry of fs.existsSync(sandboxesDir) ? fs.readdirSync(sandboxesDir) : []) {
    const dir = path.join(sandboxesDir, entry);
    const intent = readIntent(dir);
    if (known.has(entry)) {
      if (intent) {
        await clearIntent(dir);
        logRecovery(logger, `sandbox ${entry}`, 'completed', `RunPodSandbox ${intent.key} had written its record; its intent was dropped`);
      }
      continue;
    }
    try {
      const undone = await rollBack(dir, intent, holders.get(entry) ?? [], deps);
      holders.delete(entry);
      logRecovery(logger, `sandbox ${entry}`, 'rolled back', `RunPodSandbox ${intent?.key ?? '(no intent written)'} never recorded it; undone: ${undone.join(', ')}`);
    } catch (error) {
      logger.error(`recovery: sandbox ${entry}: rolling back the interrupted RunPodSandbox failed: ${describeError(error)}; ${dir} is left for the next start`);
    }
  }

  for (const [id, pids] of holders) {
    if (known.has(id)) continue;
    await killProcesses(pids);
    logRecovery(logger, `sandbox ${id}`, 'removed', `PID holder process ${pids.join(', ')} of an unknown sandbox was killed`);
  }
  for (const id of await removeStrayPodCgroups(deps.driver, known)) {
    logRecovery(logger, `sandbox ${id}`, 'removed', 'its pod cgroup under the pod parent belonged to no sandbox');
  }
}

/** Undoes a RunPodSandbox from what its intent names; answers what was found and undone. */
async function rollBack(dir: string, intent: RunIntent | undefined, holderPids: readonly number[], deps: RecoveryDependencies): Promise<string[]> {
  const undone: string[] = [];
  if (intent?.pause) {
    const runtime = deps.runtimes.forHandler(intent.pause.runtimeName);
    if ((await runtime.state(intent.pause.id)) || fs.existsSync(intent.pause.stateDir)) undone.push(`pause container ${intent.pause.id}`);
    await stopPauseContainer(runtime, intent.pause, deps.logger, deps.driver);
  }
  if (holderPids.length > 0) {
    await killProcesses(holderPids);
    undone.push(`PID holder ${holderPids.join(', ')}`);
  }
  const network = deps.network();
  if (intent?.network && network) {
    // Whether ADD ran or not, DEL is safe; host-local frees the address it gave this pod ID.
    await network.tearDownPod(intent.network);
    undone.push('CNI attachment (DEL)');
  }
  const pinned = (['net', 'ipc', 'uts'] as const).filter((kind) => fs.existsSync(namespaceFile(dir, kind)));
  const shm = intent ? intent.shm : path.join(dir, 'shm');
  const shmMounted = shm !== undefined && isMountPoint(shm);
  await unpinNamespaces(dir, shm);
  if (pinned.length > 0) undone.push(`pinned ${pinned.join(',')}`);
  if (shmMounted) undone.push('shm mount');
  if (intent?.cgroup.madeByCaisson) {
    const existed = deps.driver.cgroupDirs(intent.cgroup.path).some((cgroupDir) => fs.existsSync(cgroupDir));
    await deps.driver.removePodCgroup(intent.cgroup.path);
    if (existed) undone.push(`cgroup ${intent.cgroup.path}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  undone.push('directory');
  return undone;
}
