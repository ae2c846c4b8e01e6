import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { nowNanosText } from '../clock/unix-nanos';
import { describeError } from '../errors';
import type { OciRuntime } from '../runtime/runtime-registry';
import type { EventBus, Logger, MetadataStore } from '../tokens';
import type { ContainerRecord } from './container-record';
import type { ExitTracker } from './exit-tracker';
import { publishContainerEvent } from './publish-container-event';

// conmon's exit file is not the whole truth: after a reboot, or when conmon itself was killed,
// no exit file ever appears, and a record left RUNNING would make every StopContainer and
// RemoveContainer fail. So, at start-up and whenever a signal finds no process, the runtime is
// asked. A RUNNING or CREATED record the runtime no longer runs, with no exit file, becomes
// EXITED with an honest reason (as containerd does: "Unknown", 255); a CREATED record the
// runtime runs (the daemon died between `runc start` and the RUNNING record) becomes RUNNING.

/** How long a live conmon gets to write the exit file of a container the runtime says is stopped. */
const CONMON_EXIT_FILE_GRACE_MS = 2_000;
export const UNKNOWN_EXIT_CODE = 255;

export interface RuntimeTruthDependencies {
  readonly store: MetadataStore;
  readonly events: EventBus;
  readonly logger: Logger;
  readonly exits: Pick<ExitTracker, 'refresh' | 'exitFile'>;
}

/** The record as the runtime's view makes it; `why` names the occasion in the log. */
export async function settleWithRuntime(deps: RuntimeTruthDependencies, runtime: OciRuntime, given: ContainerRecord): Promise<ContainerRecord> {
  let record = deps.exits.refresh(given);
  if (record.state !== 'CONTAINER_RUNNING' && record.state !== 'CONTAINER_CREATED') return record;
  const state = await runtime.state(record.id).catch((error: unknown) => {
    deps.logger.warn(`container ${record.id}: runtime "${runtime.name}" could not report its state: ${describeError(error)}`);
    return 'unreadable' as const;
  });
  if (state === 'unreadable') return record;
  if (state && state.status === 'running' && record.state === 'CONTAINER_CREATED') {
    const running: ContainerRecord = { ...record, state: 'CONTAINER_RUNNING', startedAt: nowNanosText(), pid: state.pid || record.pid };
    deps.store.putContainer(running.id, running.sandboxId, running);
    publishContainerEvent(deps.events, 'CONTAINER_STARTED_EVENT', running);
    return running;
  }
  if (state && state.status !== 'stopped') return record;
  // Gone or stopped: a live conmon is about to write the exit file; give it a moment.
  if (conmonAlive(record)) {
    for (let waited = 0; waited < CONMON_EXIT_FILE_GRACE_MS && !fs.existsSync(deps.exits.exitFile(record.id)); waited += 50) await delay(50);
  }
  record = deps.exits.refresh(record);
  if (record.state !== 'CONTAINER_RUNNING' && record.state !== 'CONTAINER_CREATED') return record;
  const seen = state ? 'stopped' : 'unknown to the runtime';
  const exited: ContainerRecord = {
    ...record,
    state: 'CONTAINER_EXITED',
    exitCode: UNKNOWN_EXIT_CODE,
    finishedAt: nowNanosText(),
    startedAt: record.startedAt === '0' && record.state === 'CONTAINER_RUNNING' ? nowNanosText() : record.startedAt,
    reason: 'Unknown',
    message: `container ${record.id} was ${record.state === 'CONTAINER_RUNNING' ? 'running' : 'created'} but its process is gone (${seen} to runtime "${runtime.name}") and no exit code was recorded`,
  };
  deps.store.putContainer(exited.id, exited.sandboxId, exited);
  publishContainerEvent(deps.events, 'CONTAINER_STOPPED_EVENT', exited);
  deps.logger.warn(exited.message);
  return exited;
}

/** The pid conmon wrote for itself, when that process is still alive (and is a conmon). */
export function conmonPid(record: Pick<ContainerRecord, 'paths'>): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(record.paths.persistDir, 'conmon.pid'), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    const comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    return comm === 'conmon' ? pid : undefined;
  } catch {
    return undefined;
  }
}

function conmonAlive(record: Pick<ContainerRecord, 'paths'>): boolean {
  return conmonPid(record) !== undefined;
}
