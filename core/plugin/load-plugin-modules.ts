import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, describeError } from '../errors';
import type { AnyPluginManifest, PluginEntry } from './plugin-entry';

// Third-party plugins: each entry of daemon.json `plugins` is a module path (absolute, or relative
// to daemon.json's directory): a file, or a package directory. Its module exports `caissonPlugin`
// (one manifest) or `caissonPlugins` (an array). ES modules and CommonJS modules both load: the
// loader always uses `import()`, which takes either (a CommonJS module's exports arrive as its
// namespace's named exports and as `default`). Loading only reads manifests; nothing runs until
// validation passes.

export async function loadPluginModules(modulePaths: readonly string[], configSource: string): Promise<PluginEntry[]> {
  const base = path.isAbsolute(configSource) ? path.dirname(configSource) : process.cwd();
  const entries: PluginEntry[] = [];
  for (const modulePath of modulePaths) {
    const resolved = path.resolve(base, modulePath);
    let exported: Record<string, unknown>;
    try {
      exported = (await importModule(pathToFileURL(entryFile(resolved)).href)) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(`plugin module ${resolved} (from "plugins" in daemon.json) cannot be loaded: ${describeError(error)}`, { cause: error });
    }
    const manifests = manifestsOf(exported);
    if (manifests.length === 0) {
      throw new ConfigError(
        `plugin module ${resolved} (from "plugins" in daemon.json) exports neither "caissonPlugin" nor "caissonPlugins"`,
      );
    }
    entries.push(...manifests.map((manifest) => ({ manifest, origin: { kind: 'module', path: resolved } as const })));
  }
  return entries;
}

// The compiler turns `import()` into `require()` in CommonJS output; this keeps the real one.
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

/**
 * The file to import for a module path: the path itself, or for a package directory what its
 * package.json names (`exports` ".", then `main`, then index.js), as Node would resolve the package.
 */
function entryFile(resolved: string): string {
  if (!fs.statSync(resolved).isDirectory()) return resolved;
  const manifestFile = path.join(resolved, 'package.json');
  if (!fs.existsSync(manifestFile)) return path.join(resolved, 'index.js');
  const pkg = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { exports?: unknown; main?: string };
  const fromExports = exportTarget(pkg.exports);
  return path.resolve(resolved, fromExports ?? pkg.main ?? 'index.js');
}

/** The target of a package's "." export under the conditions a loader that imports would meet. */
function exportTarget(exports: unknown): string | undefined {
  if (typeof exports === 'string') return exports;
  if (typeof exports !== 'object' || exports === null || Array.isArray(exports)) return undefined;
  const map = exports as Record<string, unknown>;
  if ('.' in map) return exportTarget(map['.']);
  for (const condition of ['import', 'node', 'default', 'require']) {
    const target = exportTarget(map[condition]);
    if (target !== undefined) return target;
  }
  return undefined;
}

function manifestsOf(namespace: Record<string, unknown>): AnyPluginManifest[] {
  const fallback = namespace['default'];
  const pick = (name: string): unknown =>
    namespace[name] ?? (typeof fallback === 'object' && fallback !== null ? (fallback as Record<string, unknown>)[name] : undefined);
  const many = pick('caissonPlugins');
  if (Array.isArray(many)) return many as AnyPluginManifest[];
  const one = pick('caissonPlugin');
  return one === undefined ? [] : [one as AnyPluginManifest];
}
