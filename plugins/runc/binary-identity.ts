import * as fs from 'node:fs';
import { findExecutable } from '../../core/plugin-api';

// Which file a runtime binary is right now, as one string: its resolved path, device, inode, size
// and change time. The same string means the same binary, so an answer it gave (its --version)
// still holds; a replaced, upgraded or removed binary gives another string (or undefined).

export function binaryIdentity(program: string): string | undefined {
  const file = findExecutable(program);
  if (!file) return undefined;
  try {
    const stat = fs.statSync(file);
    return `${file}:${stat.dev}:${stat.ino}:${stat.size}:${stat.ctimeMs}`;
  } catch {
    return undefined;
  }
}
