import { readIntentFile, writeIntentFile } from '../crash/intent-file';

// A container's intent file: written (and fsynced, with its directory) into the container's
// state directory before CreateContainer makes anything on the host, so a daemon killed at any
// later step leaves a trace that recovery at start-up finds and rolls back. It names the runtime
// whose state to delete and the writable layer to remove. Once the record is written the record
// owns the container and the file is only a leftover (removed with the directory).

export interface CreateIntent {
  readonly operation: 'create';
  readonly id: string;
  /** The runtime (a `runtimes` name) the container is created in. */
  readonly runtime: string;
  /** The container's directory under the graph root (its writable layer). */
  readonly graphDir: string;
}

export function writeCreateIntent(stateDir: string, intent: CreateIntent): Promise<void> {
  return writeIntentFile(stateDir, intent);
}

/** The intent in a container's state directory, or undefined when there is none (or it was cut short). */
export function readCreateIntent(stateDir: string): CreateIntent | undefined {
  const intent = readIntentFile(stateDir) as Partial<CreateIntent> | undefined;
  if (intent?.operation !== 'create' || typeof intent.runtime !== 'string' || typeof intent.graphDir !== 'string') return undefined;
  return intent as CreateIntent;
}
