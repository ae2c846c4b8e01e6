import type { DaemonConfig } from '../../config/daemon-config-schema';
import { formatConfigIssues } from '../../config/format-config-issues';
import { PluginValidationError, ConfigError } from '../errors';
import { describePlugin, type PluginEntry, type ResolvedPlugin } from './plugin-entry';
import { identityOf, PluginType } from './plugin-manifest';
import { isOptionalToken, requirementsOf, tokenName } from './token';
import { CORE_TOKENS } from '../daemon/core-tokens';

// Checks a whole set of plugin manifests against the configuration before any of them runs, and
// returns the enabled ones in init order. The first problem found is thrown, worded so the
// operator knows which plugin and which daemon.json key to look at.

const ID_PATTERN = /^[a-z0-9][a-z0-9-]*$/;
const KNOWN_TYPES: readonly string[] = Object.values(PluginType);

export function validatePlugins(entries: readonly PluginEntry[], config: DaemonConfig, coreTokens: ReadonlySet<symbol> = CORE_TOKENS): ResolvedPlugin[] {
  entries.forEach(checkShape);
  checkDuplicates(entries);
  const enabled = entries.filter((entry) => entry.manifest.selectedBy?.when(config) ?? true);
  const configs = parsePluginConfigs(enabled, config);
  checkExactlyOneCgroupDriver(enabled);
  checkRuntimesProvided(enabled, config);
  const providers = tokenProviders(enabled, coreTokens);
  const order = initOrder(enabled, providers, coreTokens);
  return order.map((entry) => {
    const identity = identityOf(entry.manifest);
    return { ...entry, identity, config: configs.get(identity) ?? {} };
  });
}

function checkShape(entry: PluginEntry): void {
  const manifest = entry.manifest as Partial<PluginEntry['manifest']> | undefined;
  const from = entry.origin.kind === 'module' ? ` from ${entry.origin.path}` : '';
  if (typeof manifest !== 'object' || manifest === null) {
    throw new PluginValidationError(`plugin manifest${from} is not an object`);
  }
  if (typeof manifest.id !== 'string' || !ID_PATTERN.test(manifest.id)) {
    throw new PluginValidationError(
      `plugin manifest${from} has id ${JSON.stringify(manifest.id)}; an id is lower-case letters, digits and dashes`,
    );
  }
  if (typeof manifest.type !== 'string' || !KNOWN_TYPES.includes(manifest.type)) {
    throw new PluginValidationError(
      `plugin "${String(manifest.type)}.${manifest.id}"${from} has unknown type ${JSON.stringify(manifest.type)}; known types: ${KNOWN_TYPES.join(', ')}`,
    );
  }
  if (typeof manifest.init !== 'function') {
    throw new PluginValidationError(`plugin "${manifest.type}.${manifest.id}"${from} has no init function`);
  }
  const requires: unknown = manifest.requires;
  const requirementOk = (value: unknown): boolean => typeof value === 'symbol' || (typeof value === 'object' && value !== null && typeof (value as { optional?: unknown }).optional === 'symbol');
  if (requires !== undefined && (typeof requires !== 'object' || requires === null || Array.isArray(requires) || !Object.values(requires).every(requirementOk))) {
    throw new PluginValidationError(
      `plugin "${manifest.type}.${manifest.id}"${from} has "requires" that is not a map of names to tokens (e.g. { driver: CgroupDriver }); list plugins to start first in "after"`,
    );
  }
  if (manifest.provides !== undefined && (!Array.isArray(manifest.provides) || !manifest.provides.every((token) => typeof token === 'symbol'))) {
    throw new PluginValidationError(`plugin "${manifest.type}.${manifest.id}"${from} has "provides" that is not a list of tokens`);
  }
}

function checkDuplicates(entries: readonly PluginEntry[]): void {
  const seen = new Map<string, PluginEntry>();
  for (const entry of entries) {
    const identity = identityOf(entry.manifest);
    const first = seen.get(identity);
    if (first) {
      throw new PluginValidationError(
        `duplicate plugin "${identity}": ${originText(first)} and ${originText(entry)} both define it`,
      );
    }
    seen.set(identity, entry);
  }
}

function originText(entry: PluginEntry): string {
  return entry.origin.kind === 'module' ? `module ${entry.origin.path} (from "plugins" in daemon.json)` : 'the plugin list given to createDaemon';
}

function parsePluginConfigs(enabled: readonly PluginEntry[], config: DaemonConfig): Map<string, Record<string, unknown>> {
  const byIdentity = new Map(enabled.map((entry) => [identityOf(entry.manifest), entry]));
  for (const key of Object.keys(config.pluginConfig)) {
    if (!byIdentity.has(key)) {
      throw new ConfigError(
        `daemon.json "plugin-config" has a section for "${key}", which is not an enabled plugin; enabled plugins: ${[...byIdentity.keys()].join(', ')}`,
      );
    }
  }
  const parsed = new Map<string, Record<string, unknown>>();
  for (const [identity, entry] of byIdentity) {
    const raw = config.pluginConfig[identity] ?? {};
    const schema = entry.manifest.configSchema;
    if (!schema) {
      parsed.set(identity, raw);
      continue;
    }
    const result = schema.safeParse(raw);
    if (!result.success) {
      throw new ConfigError(formatConfigIssues(result.error.issues, raw, `daemon.json "plugin-config"."${identity}"`));
    }
    parsed.set(identity, result.data as Record<string, unknown>);
  }
  return parsed;
}

function checkExactlyOneCgroupDriver(enabled: readonly PluginEntry[]): void {
  const drivers = enabled.filter((entry) => entry.manifest.type === PluginType.CgroupDriver);
  if (drivers.length === 0) {
    throw new PluginValidationError(
      'no cgroup driver plugin is enabled: "systemd-cgroup" in daemon.json chooses cgroup-driver.cgroupfs or cgroup-driver.systemd, and the plugin list has neither',
    );
  }
  if (drivers.length > 1) {
    throw new PluginValidationError(
      `more than one cgroup driver plugin is enabled: ${drivers.map(describePlugin).join(' and ')}; a daemon runs with exactly one`,
    );
  }
}

function checkRuntimesProvided(enabled: readonly PluginEntry[], config: DaemonConfig): void {
  const providers = new Map<string, string[]>();
  for (const entry of enabled) {
    if (entry.manifest.type !== PluginType.Runtime) continue;
    for (const name of entry.manifest.runtimes?.(config) ?? []) {
      providers.set(name, [...(providers.get(name) ?? []), identityOf(entry.manifest)]);
    }
  }
  const offered = [...providers.entries()].map(([name, plugins]) => `${plugins.join(', ')} provides ${name}`).join('; ');
  const requireOne = (name: string, chosenBy: string): void => {
    const found = providers.get(name) ?? [];
    if (found.length === 0) {
      throw new PluginValidationError(
        `runtime "${name}" (${chosenBy} in daemon.json) is not provided by any runtime plugin${offered ? `; ${offered}` : '; no runtime plugin is enabled'}`,
      );
    }
    if (found.length > 1) {
      throw new PluginValidationError(
        `runtime "${name}" (${chosenBy} in daemon.json) is provided by more than one plugin: ${found.join(' and ')}`,
      );
    }
  };
  requireOne(config.defaultRuntime, '"default-runtime"');
  for (const [handler, runtime] of Object.entries(config.criRuntimes)) {
    requireOne(runtime, `"cri-runtimes"."${handler}"`);
  }
}

/** Which enabled plugin binds each token its manifest `provides`: one per token, never a core one. */
function tokenProviders(enabled: readonly PluginEntry[], coreTokens: ReadonlySet<symbol>): Map<symbol, string> {
  const providers = new Map<symbol, string>();
  for (const entry of enabled) {
    const identity = identityOf(entry.manifest);
    for (const token of entry.manifest.provides ?? []) {
      if (coreTokens.has(token)) {
        throw new PluginValidationError(`plugin "${identity}" provides ${tokenName(token)}, which the core binds itself`);
      }
      const first = providers.get(token);
      if (first !== undefined && first !== identity) {
        throw new PluginValidationError(`${tokenName(token)} is provided by both "${first}" and "${identity}"; a daemon binds it once`);
      }
      providers.set(token, identity);
    }
  }
  return providers;
}

/** Dependencies first, otherwise in the given order; a cycle is reported with its path. */
function initOrder(enabled: readonly PluginEntry[], providers: ReadonlyMap<symbol, string>, coreTokens: ReadonlySet<symbol>): PluginEntry[] {
  const byIdentity = new Map(enabled.map((entry) => [identityOf(entry.manifest), entry]));
  const required = (entry: PluginEntry): string[] =>
    requirementsOf(entry.manifest.requires).flatMap(([name, requirement]) => {
      const optional = isOptionalToken(requirement);
      const token = optional ? requirement.optional : requirement;
      const provider = providers.get(token);
      if (provider !== undefined) return provider === identityOf(entry.manifest) ? [] : [provider];
      if (optional || coreTokens.has(token)) return [];
      throw new PluginValidationError(
        `plugin "${identityOf(entry.manifest)}" requires ${tokenName(token)} (as "${name}"), which the core does not bind and no enabled plugin provides`,
      );
    });
  const after = (entry: PluginEntry): string[] =>
    (entry.manifest.after ?? []).flatMap((requirement: string) => {
      const identity = identityOf(entry.manifest);
      if (requirement.includes('.')) {
        if (!byIdentity.has(requirement)) {
          throw new PluginValidationError(`plugin "${identity}" runs after "${requirement}", which is not an enabled plugin`);
        }
        return [requirement];
      }
      const ofType = enabled.filter((other) => other.manifest.type === requirement).map((other) => identityOf(other.manifest));
      if (ofType.length === 0) {
        throw new PluginValidationError(`plugin "${identity}" runs after a "${requirement}" plugin, and none is enabled`);
      }
      return ofType.filter((other) => other !== identity);
    });
  const dependencies = (entry: PluginEntry): string[] => [...required(entry), ...after(entry)];

  const ordered: PluginEntry[] = [];
  const done = new Set<string>();
  const visiting: string[] = [];
  const visit = (identity: string): void => {
    if (done.has(identity)) return;
    const cycleStart = visiting.indexOf(identity);
    if (cycleStart >= 0) {
      throw new PluginValidationError(`plugin dependency cycle: ${[...visiting.slice(cycleStart), identity].join(' -> ')}`);
    }
    const entry = byIdentity.get(identity);
    if (!entry) return;
    visiting.push(identity);
    for (const dependency of dependencies(entry)) visit(dependency);
    visiting.pop();
    done.add(identity);
    ordered.push(entry);
  };
  for (const identity of byIdentity.keys()) visit(identity);
  return ordered;
}
