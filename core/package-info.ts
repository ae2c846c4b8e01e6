import * as fs from 'node:fs';
import * as path from 'node:path';

// Caisson's own name, version and install root, found by walking up from this file. The same
// code runs from the TypeScript sources (tests) and from dist/ (the daemon), so no fixed
// relative path would do.

export interface PackageInfo {
  readonly name: string;
  readonly version: string;
  readonly root: string;
}

let cached: PackageInfo | undefined;

export function packageInfo(): PackageInfo {
  if (cached) return cached;
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (fs.existsSync(candidate)) {
      const pkg = JSON.parse(fs.readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'caisson' && pkg.version) {
        cached = { name: pkg.name, version: pkg.version, root: dir };
        return cached;
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find caisson's package.json above ${__dirname}`);
    dir = parent;
  }
}
