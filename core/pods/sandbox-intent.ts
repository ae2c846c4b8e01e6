import * as fs from 'node:fs';
import * as path from 'node:path';
import { INTENT_FILE, readIntentFile, writeIntentFile } from '../crash/intent-file';
import type { PodNetworkRequest } from '../tokens';
import type { PauseContainer } from './sandbox-record';

// RunPodSandbox's trace of intent: written and fsynced in the sandbox's own directory before
// anything else is made on the host, so that a daemon killed half-way leaves recovery enough to
// undo every part (the CNI request host-local needs to free the IP, the pause container's
// paths, the cgroup, the shm mount). It is deleted once the record is written: a sandbox
// directory holding an intent and no record is a RunPodSandbox that never answered OK.

export interface RunIntent {
  readonly op: 'RunPodSandbox';
  readonly id: string;
  /** name_namespace_uid_attempt, for the log line. */
  readonly key: string;
  readonly cgroup: { readonly path: string; readonly madeByCaisson: boolean };
  /** The pod's shm tmpfs mount point (absent in the host IPC namespace). */
  readonly shm?: string;
  /** What CNI ADD is (or will be) given; DEL with the same request frees what ADD took. */
  readonly network?: PodNetworkRequest;
  /** The pause container about to be made (its ID and paths; pid 0 until it runs). */
  readonly pause?: PauseContainer;
  /** Whether a PID holder (`<dir>/pause`) is to be started. */
  readonly pidHolder: boolean;
}

/** Writes the intent durably (core/crash/intent-file.ts). */
export function writeIntent(dir: string, intent: RunIntent): Promise<void> {
  return writeIntentFile(dir, intent);
}

/** The intent left in a sandbox directory, or undefined when there is none (or it is torn). */
export function readIntent(dir: string): RunIntent | undefined {
  const parsed = readIntentFile(dir) as Partial<RunIntent> | undefined;
  return parsed?.op === 'RunPodSandbox' ? (parsed as RunIntent) : undefined;
}

/** Drops the intent once the record is written (the operation can no longer be rolled back). */
export function clearIntent(dir: string): Promise<void> {
  return fs.promises.rm(path.join(dir, INTENT_FILE), { force: true });
}
