import * as fs from 'node:fs';
import * as path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import { protoDir } from '../core/cri/cri-proto';

// Pod and container config files, as crictl takes them: JSON in the CRI's proto field names
// (snake_case), or in protobuf-JSON camelCase. Keys are turned into the proto's field names
// recursively, except inside the maps whose keys are the user's own data. Most proto fields are
// snake_case, but a few are not (`CDI_devices`, `uidMappings`): a key is matched against the
// proto's field names ignoring case and underscores first, and only then made snake_case.

/** Maps (proto `map<string, string>`) whose keys are user data and are kept as written. */
const USER_DATA_MAPS: ReadonlySet<string> = new Set(['labels', 'annotations', 'sysctls', 'unified', 'label_selector']);

/** "logDirectory" → "log_directory", "hostIP" → "host_ip"; snake_case keys are left alone. */
export function snakeCase(key: string): string {
  return key
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

const loose = (name: string): string => name.replace(/_/g, '').toLowerCase();

let fieldNames: ReadonlyMap<string, string> | undefined;

/** Every field name of the CRI v1 messages, by its loose form (lower case, no underscores). */
export function criFieldNames(): ReadonlyMap<string, string> {
  if (fieldNames) return fieldNames;
  const definition = protoLoader.loadSync(path.join('runtime', 'v1', 'api.proto'), { keepCase: true, includeDirs: [protoDir()] });
  const names = new Map<string, string>();
  for (const entry of Object.values(definition)) {
    const fields = (entry as { type?: { field?: { name?: string }[] } }).type?.field ?? [];
    for (const field of fields) if (field.name) names.set(loose(field.name), field.name);
  }
  fieldNames = names;
  return names;
}

/** A config key as the proto names the field: `logDirectory` → `log_directory`, `cdiDevices` → `CDI_devices`. */
export function protoFieldName(key: string, names: ReadonlyMap<string, string> = criFieldNames()): string {
  return names.get(loose(key)) ?? snakeCase(key);
}

/** A copy of `value` whose object keys are the proto's field names, except inside user-data maps. */
export function snakeCaseKeys(value: unknown, names: ReadonlyMap<string, string> = criFieldNames()): unknown {
  if (Array.isArray(value)) return value.map((item) => snakeCaseKeys(item, names));
  if (value === null || typeof value !== 'object') return value;
  const result: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    const name = protoFieldName(key, names);
    result[name] = USER_DATA_MAPS.has(name) && inner !== null && typeof inner === 'object' && !Array.isArray(inner) ? { ...inner } : snakeCaseKeys(inner, names);
  }
  return result;
}

/** Reads a PodSandboxConfig or ContainerConfig JSON file (`what` names it in errors). */
export function readCriConfig(file: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the ${what} config ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`the ${what} config ${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`the ${what} config ${file} must hold a JSON object`);
  }
  return snakeCaseKeys(parsed) as Record<string, unknown>;
}
