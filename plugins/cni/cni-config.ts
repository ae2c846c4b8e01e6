import * as fs from 'node:fs';
import * as path from 'node:path';

// Which network configuration the node uses, read from the CNI conf dir: the lowest-sorted
// `.conflist`, `.conf` or `.json` file (a `.conf`/`.json` holding a single plugin config is wrapped
// as a list of one). Pure parsing here; the thin loader below only reads the directory.

/** CNI spec versions whose configs and results Caisson speaks. */
export const SUPPORTED_CNI_VERSIONS: readonly string[] = ['0.3.0', '0.3.1', '0.4.0', '1.0.0'];

/** One plugin's configuration inside a network list (`type` names its binary). */
export interface CniPluginConf {
  readonly type: string;
  readonly capabilities?: Readonly<Record<string, boolean>>;
  readonly [key: string]: unknown;
}

export interface CniNetworkList {
  readonly name: string;
  readonly cniVersion: string;
  readonly disableCheck: boolean;
  readonly plugins: readonly CniPluginConf[];
}

const CONFIG_EXTENSIONS: readonly string[] = ['.conflist', '.conf', '.json'];

/** The file the node uses among a directory's entries: the lowest-sorted config file, if any. */
export function pickConfigFile(names: readonly string[]): string | undefined {
  return names.filter((name) => CONFIG_EXTENSIONS.includes(path.extname(name))).sort()[0];
}

/** Parses a config file's text; throws an Error whose message says what is wrong with it. */
export function parseNetworkConfig(fileName: string, text: string): CniNetworkList {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`${fileName} is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(raw)) throw new Error(`${fileName} does not hold a JSON object`);
  const isList = path.extname(fileName) === '.conflist' || Array.isArray(raw.plugins);
  const name = raw.name;
  const cniVersion = raw.cniVersion ?? '0.1.0';
  if (typeof name !== 'string' || name === '') throw new Error(`${fileName} has no network "name"`);
  if (typeof cniVersion !== 'string' || !SUPPORTED_CNI_VERSIONS.includes(cniVersion)) {
    throw new Error(`${fileName} has cniVersion ${JSON.stringify(cniVersion)}; supported: ${SUPPORTED_CNI_VERSIONS.join(', ')}`);
  }
  const entries: unknown[] = isList ? (Array.isArray(raw.plugins) ? raw.plugins : []) : [raw];
  if (entries.length === 0) throw new Error(`${fileName} lists no "plugins"`);
  const plugins = entries.map((entry, index): CniPluginConf => {
    if (!isObject(entry) || typeof entry.type !== 'string' || entry.type === '') {
      throw new Error(`${fileName}: plugin ${index} has no "type"`);
    }
    if (entry.capabilities !== undefined && !isObject(entry.capabilities)) {
      throw new Error(`${fileName}: plugin ${index} (${entry.type}) has "capabilities" that is not an object`);
    }
    return entry as CniPluginConf;
  });
  return { name, cniVersion, disableCheck: raw.disableCheck === true, plugins };
}

export type LoadedNetwork =
  | { readonly ok: true; readonly file: string; readonly list: CniNetworkList; readonly binaries: readonly string[] }
  | { readonly ok: false; readonly message: string };

/** Reads the node's network from `confDir` and finds each plugin's binary in `binDirs`. */
export function loadNetwork(confDir: string, binDirs: readonly string[]): LoadedNetwork {
  let names: string[];
  try {
    names = fs.readdirSync(confDir);
  } catch (error) {
    return { ok: false, message: `no CNI network config in ${confDir}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the directory does not exist' : (error as Error).message}` };
  }
  const picked = pickConfigFile(names);
  if (picked === undefined) return { ok: false, message: `no CNI network config in ${confDir}: no .conflist, .conf or .json file` };
  const file = path.join(confDir, picked);
  let list: CniNetworkList;
  try {
    list = parseNetworkConfig(picked, fs.readFileSync(file, 'utf8'));
  } catch (error) {
    return { ok: false, message: `invalid CNI network config in ${confDir}: ${(error as Error).message}` };
  }
  const binaries: string[] = [];
  for (const plugin of list.plugins) {
    const binary = findPluginBinary(plugin.type, binDirs);
    if (binary === undefined) {
      return { ok: false, message: `CNI network config ${file} uses plugin "${plugin.type}", which is in none of ${binDirs.join(', ')}` };
    }
    binaries.push(binary);
  }
  return { ok: true, file, list, binaries };
}

/** The first executable file named `type` in the bin dirs. */
export function findPluginBinary(type: string, binDirs: readonly string[]): string | undefined {
  if (type.includes('/')) return undefined;
  for (const dir of binDirs) {
    const candidate = path.join(dir, type);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
