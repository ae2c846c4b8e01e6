import type { PluginManifest } from './plugin-manifest';
import { identityOf } from './plugin-manifest';

/** Any manifest, whatever its config type (the loader validates config before init sees it). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyPluginManifest = PluginManifest<any, any>;

/** Where a manifest came from, so every message can say which list or file to fix. */
export type PluginOrigin = { readonly kind: 'given' } | { readonly kind: 'module'; readonly path: string };

export interface PluginEntry {
  readonly manifest: AnyPluginManifest;
  readonly origin: PluginOrigin;
}

/** A plugin that passed validation: enabled, config parsed, in init order. */
export interface ResolvedPlugin extends PluginEntry {
  readonly identity: string;
  readonly config: Record<string, unknown>;
}

/** "runtime.runc (chosen by "systemd-cgroup" in daemon.json)" and the like. */
export function describePlugin(entry: PluginEntry): string {
  const identity = identityOf(entry.manifest);
  if (entry.origin.kind === 'module') return `${identity} (loaded from "plugins" in daemon.json: ${entry.origin.path})`;
  if (entry.manifest.selectedBy) return `${identity} (chosen by "${entry.manifest.selectedBy.key}" in daemon.json)`;
  return `${identity} (built in)`;
}
