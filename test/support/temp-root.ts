import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A fresh directory for one test's sockets, state and graph; the caller removes it. */
export function makeTempRoot(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `caisson-test-${label}-`));
}

export function removeTempRoot(root: string): void {
  fs.rmSync(root, { recursive: true, force: true });
}
