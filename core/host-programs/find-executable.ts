import * as fs from 'node:fs';
import * as path from 'node:path';

/** The absolute path of a program as PATH finds it (an absolute name is returned as is). */
export function findExecutable(name: string, searchPath = process.env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'): string | undefined {
  if (path.isAbsolute(name)) return name;
  for (const dir of searchPath.split(':')) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
