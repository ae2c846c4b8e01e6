import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PodNetworkRequest } from '../tokens';
import type { PauseContainer } from './sandbox-record';

// RunPodSandbox's trace of intent: written and fsynced in the sandbox's own directory before
// anything else is made on the host, so that a daemon killed half-way leaves recovery enough to
// undo every part (the CNI request host-local needs to free the IP, the pause container's
// paths, the cgroup, the shm mount). It is deleted once the record is written: a sandbox
// directory holding an intent and no record is a RunPodSandbox that never answered OK.

export const INTENT_FILE = 'intent.json';

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

/** Writes the intent durably: temp file, fsync, rename, fsync of the directory. */
export function writeIntent(dir: string, intent: RunIntent): void {
  const file = path.join(dir, INTENT_FILE);
  const temp = `${file}.tmp`;
  const fd = fs.openSync(temp, 'w', 0o600);
  try {
    fs.writeSync(fd, JSON.stringify(intent));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, file);
  syncDir(dir);
  // The sandbox directory's own entry in sandboxes/ must survive too, or recovery finds nothing.
  syncDir(path.dirname(dir));
}

/** The intent left in a sandbox directory, or undefined when there is none (or it is torn). */
export function readIntent(dir: string): RunIntent | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(path.join(dir, INTENT_FILE), 'utf8')) as RunIntent;
    return parsed.op === 'RunPodSandbox' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Drops the intent once the record is written (the operation can no longer be rolled back). */
export function clearIntent(dir: string): void {
  fs.rmSync(path.join(dir, INTENT_FILE), { force: true });
}

function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
