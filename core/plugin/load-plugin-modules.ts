import * as path from 'node:path';
import { ConfigError, describeError } from '../errors';
import type { AnyPluginManifest, PluginEntry } from './plugin-entry';

// Third-party plugins: each entry of daemon.json `plugins` is a module path (absolute, or relative
// to daemon.json's directory) whose module exports `caissonPlugin` (one manifest) or
// `caissonPlugins` (an array). Loading only reads manifests; nothing runs until validation passes.

export function loadPluginModules(modulePaths: readonly string[], configSource: string): PluginEntry[] {
  const base = path.isAbsolute(configSource) ? path.dirname(configSource) : process.cwd();
  return modulePaths.flatMap((modulePath) => {
    const resolved = path.resolve(base, modulePath);
    let exported: Record<string, unknown>;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      exported = require(resolved) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(`plugin module ${resolved} (from "plugins" in daemon.json) cannot be loaded: ${describeError(error)}`, { cause: error });
    }
    const manifests = manifestsOf(exported);
    if (manifests.length === 0) {
      throw new ConfigError(
        `plugin module ${resolved} (from "plugins" in daemon.json) exports neither "caissonPlugin" nor "caissonPlugins"`,
      );
    }
    return manifests.map((manifest) => ({ manifest, origin: { kind: 'module', path: resolved } as const }));
  });
}

function manifestsOf(exported: Record<string, unknown>): AnyPluginManifest[] {
  const many = exported['caissonPlugins'];
  if (Array.isArray(many)) return many as AnyPluginManifest[];
  const one = exported['caissonPlugin'];
  return one === undefined ? [] : [one as AnyPluginManifest];
}
