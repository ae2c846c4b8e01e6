import * as fs from 'node:fs';
import * as path from 'node:path';

// An operation's trace of intent (docs/crash-safety.md): `intent.json` in the object's own state
// directory, written before the operation makes anything on the host. It must survive a power cut,
// not only a kill: the file is written under a temporary name, fsynced and renamed, then the
// directory (holding the new name) and its parent (holding the directory) are fsynced.

export const INTENT_FILE = 'intent.json';

export function writeIntentFile(dir: string, intent: object): void {
  const file = path.join(dir, INTENT_FILE);
  const temporary = `${file}.tmp`;
  const fd = fs.openSync(temporary, 'w', 0o600);
  try {
    fs.writeSync(fd, JSON.stringify(intent));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, file);
  syncDirectory(dir);
  syncDirectory(path.dirname(dir));
}

/** The intent's JSON, or undefined when there is none or it cannot be parsed (a cut-short write never got its final name). */
export function readIntentFile(dir: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(path.join(dir, INTENT_FILE), 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Makes a directory's entries durable: a file or subdirectory made in it survives a crash. */
export function syncDirectory(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
