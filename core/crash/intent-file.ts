import * as fs from 'node:fs';
import * as path from 'node:path';
import { fsyncPath } from '../store/fsync-path';

// An operation's trace of intent (docs/crash-safety.md): `intent.json` in the object's own state
// directory, written before the operation makes anything on the host. It must survive a power cut,
// not only a kill: the file is written under a temporary name, fsynced and renamed, then the
// directory (holding the new name) and its parent (holding the directory) are fsynced.

export const INTENT_FILE = 'intent.json';

/** The writes and fsyncs run in the thread pool: the daemon's thread does not wait on the disk. */
export async function writeIntentFile(dir: string, intent: object): Promise<void> {
  const file = path.join(dir, INTENT_FILE);
  const temporary = `${file}.tmp`;
  const handle = await fs.promises.open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(JSON.stringify(intent));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.promises.rename(temporary, file);
  await Promise.all([fsyncPath(dir), fsyncPath(path.dirname(dir))]);
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
