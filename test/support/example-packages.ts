import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { packageInfo } from '../../core/package-info';

// Builds an example plugin of examples/ as its author would with a local checkout of Caisson:
// `npm link caisson` (node_modules/caisson, a link to this repository, whose package.json
// "exports" serve 'caisson/plugin' and 'caisson/builtins' from dist/), then the package's own
// `tsc -p .`. The daemon then loads the package directory named in daemon.json, never a source
// file of this repository. dist/ must be built first (`npm test` builds it; alone, run
// `npm run build`), since the exports point there.

const BUILD_TIMEOUT_MS = 120_000;
const execFileAsync = promisify(execFile);

interface PackageJson {
  readonly name?: string;
  readonly peerDependencies?: Readonly<Record<string, string>>;
}

/** Links the example's peer dependencies, compiles it, and answers its package directory. */
export async function buildExamplePackage(name: string): Promise<string> {
  const root = packageInfo().root;
  const dir = path.join(root, 'examples', name);
  const api = path.join(root, 'dist', 'core', 'plugin-api.js');
  if (!fs.existsSync(api)) throw new Error(`${api} is missing: run "npm run build" first (the examples import caisson from dist/)`);
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
  for (const dependency of Object.keys(pkg.peerDependencies ?? {})) {
    // caisson is this checkout (npm link); other peers (zod) are the copies caisson itself uses,
    // which is what npm's peer resolution would install next to it.
    linkPackage(dir, dependency, dependency === 'caisson' ? root : path.join(root, 'node_modules', dependency));
  }
  const tsc = path.join(root, 'node_modules', '.bin', 'tsc');
  try {
    await execFileAsync(tsc, ['-p', dir], { timeout: BUILD_TIMEOUT_MS });
  } catch (error) {
    // tsc prints its diagnostics on stdout (runProgram's error keeps stderr only, hence execFile).
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`building examples/${name} with ${tsc} -p ${dir} failed:\n${stdout}${stderr}`);
  }
  const entry = path.join(dir, 'dist', 'index.js');
  if (!fs.existsSync(entry)) throw new Error(`building examples/${name} made no ${entry}`);
  return dir;
}

/** node_modules/<name> as a symlink to `target`, as `npm link <name>` leaves it. */
function linkPackage(dir: string, name: string, target: string): void {
  if (!fs.existsSync(path.join(target, 'package.json'))) throw new Error(`cannot link ${name} into examples: ${target} is not a package`);
  const link = path.join(dir, 'node_modules', name);
  fs.mkdirSync(path.dirname(link), { recursive: true });
  const current = fs.lstatSync(link, { throwIfNoEntry: false });
  if (current?.isSymbolicLink() && fs.readlinkSync(link) === target) return;
  if (current) fs.rmSync(link, { recursive: true, force: true });
  fs.symlinkSync(target, link, 'dir');
}
