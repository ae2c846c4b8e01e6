import * as fs from 'node:fs';
import { cosmiconfig } from 'cosmiconfig';
import { ConfigError, describeError } from '../core/errors';
import { daemonConfigFileSchema, type DaemonConfig } from './daemon-config-schema';
import { formatConfigIssues } from './format-config-issues';
import { resolveDaemonConfig } from './resolve-config';

/** Where caissond looks for daemon.json when `--config` is not given. */
export const DEFAULT_CONFIG_FILE = '/etc/caisson/daemon.json';

/**
 * Loads the daemon configuration: the file named by `--config` (it must exist), else
 * /etc/caisson/daemon.json when present, else the embedded defaults. Throws ConfigError with every
 * problem in the file, so the daemon stops before it listens.
 */
export async function loadDaemonConfig(options: { configFile?: string; defaultFile?: string } = {}): Promise<DaemonConfig> {
  const explicit = options.configFile;
  const file = explicit ?? options.defaultFile ?? DEFAULT_CONFIG_FILE;
  if (!explicit && !fs.existsSync(file)) return validateDaemonConfig({}, 'built-in defaults');
  if (explicit && !fs.existsSync(explicit)) {
    throw new ConfigError(`config file ${explicit} (from --config) does not exist`);
  }
  const explorer = cosmiconfig('caisson', { searchStrategy: 'none' });
  let raw: unknown;
  try {
    const result = await explorer.load(file);
    raw = result?.config ?? {};
  } catch (error) {
    throw new ConfigError(`config file ${file} cannot be read: ${describeError(error)}`, { cause: error });
  }
  return validateDaemonConfig(raw, file);
}

/** Validates an already-parsed daemon.json object; `source` names it in messages. */
export function validateDaemonConfig(raw: unknown, source: string): DaemonConfig {
  const where = source === 'built-in defaults' ? 'daemon config' : source;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`${where}: the top level must be a JSON object, not ${JSON.stringify(raw)}`);
  }
  const parsed = daemonConfigFileSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(formatConfigIssues(parsed.error.issues, raw, where));
  return resolveDaemonConfig(parsed.data, source);
}
