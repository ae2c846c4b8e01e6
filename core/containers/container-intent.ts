import * as fs from 'node:fs';
import * as path from 'node:path';

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

const INTENT_FILE = 'intent.json';

export function writeCreateIntent(stateDir: string, intent: CreateIntent): void {
  const file = path.join(stateDir, INTENT_FILE);
  const fd = fs.openSync(file, 'w', 0o600);
  try {
    fs.writeSync(fd, JSON.stringify(intent));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  syncDirectory(stateDir);
  syncDirectory(path.dirname(stateDir));
}

/** The intent in a container's state directory, or undefined when there is none (or it was cut short). */
export function readCreateIntent(stateDir: string): CreateIntent | undefined {
  try {
    const intent = JSON.parse(fs.readFileSync(path.join(stateDir, INTENT_FILE), 'utf8')) as Partial<CreateIntent>;
    if (intent.operation !== 'create' || typeof intent.runtime !== 'string' || typeof intent.graphDir !== 'string') return undefined;
    return intent as CreateIntent;
  } catch {
    return undefined;
  }
}

/** Makes a directory's entries durable (a new file or subdirectory survives a crash). */
export function syncDirectory(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
