import type { PodNetworkRequest } from '../../core/plugin-api';
import type { CniNetworkList, CniPluginConf } from './cni-config';

// The CNI protocol, pure: the environment and stdin of a plugin call, and the reading of what a
// plugin answers (a result of spec 0.3.x, 0.4.0 or 1.0.0, or an error {code, msg, details}).

export type CniCommand = 'ADD' | 'DEL' | 'CHECK';

/** CNI_ARGS as kubelet-era runtimes send it (containerd, CRI-O). */
export function cniArgs(pod: Pick<PodNetworkRequest, 'sandboxId' | 'name' | 'namespace' | 'uid'>): string {
  return [
    'IgnoreUnknown=1',
    `K8S_POD_NAMESPACE=${pod.namespace}`,
    `K8S_POD_NAME=${pod.name}`,
    `K8S_POD_INFRA_CONTAINER_ID=${pod.sandboxId}`,
    `K8S_POD_UID=${pod.uid}`,
  ].join(';');
}

/** The CNI_* environment of one plugin call (added to the daemon's own environment). */
export function cniEnvironment(command: CniCommand, pod: PodNetworkRequest, binDirs: readonly string[]): Record<string, string> {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: pod.sandboxId,
    CNI_NETNS: pod.netnsPath,
    CNI_IFNAME: 'eth0',
    CNI_PATH: binDirs.join(':'),
    CNI_ARGS: cniArgs(pod),
  };
}

/**
 * `runtimeConfig` for the capabilities a plugin declares: `portMappings` (mappings with a host
 * port only, as kubelet does) and `ipRanges` (one range set per pod CIDR). Undefined when none apply.
 */
export function runtimeConfigFor(plugin: CniPluginConf, pod: Pick<PodNetworkRequest, 'portMappings' | 'podCidr'>): Record<string, unknown> | undefined {
  const capabilities = plugin.capabilities ?? {};
  const runtimeConfig: Record<string, unknown> = {};
  if (capabilities.portMappings === true) {
    const mappings = pod.portMappings
      .filter((m) => m.hostPort > 0)
      .map((m) => ({
        hostPort: m.hostPort,
        containerPort: m.containerPort,
        protocol: (m.protocol || 'tcp').toLowerCase(),
        ...(m.hostIp ? { hostIP: m.hostIp } : {}),
      }));
    if (mappings.length > 0) runtimeConfig.portMappings = mappings;
  }
  if (capabilities.ipRanges === true) {
    const cidrs = pod.podCidr
      .split(',')
      .map((cidr) => cidr.trim())
      .filter(Boolean);
    if (cidrs.length > 0) runtimeConfig.ipRanges = cidrs.map((subnet) => [{ subnet }]);
  }
  return Object.keys(runtimeConfig).length > 0 ? runtimeConfig : undefined;
}

/** A plugin's stdin: its config with the network's name and version, prevResult and runtimeConfig. */
export function pluginInput(list: CniNetworkList, plugin: CniPluginConf, pod: PodNetworkRequest, prevResult: unknown): string {
  const runtimeConfig = runtimeConfigFor(plugin, pod);
  const merged: Record<string, unknown> = { ...plugin, name: list.name, cniVersion: list.cniVersion };
  if (prevResult !== undefined) merged.prevResult = prevResult;
  else delete merged.prevResult;
  if (runtimeConfig) merged.runtimeConfig = { ...(isObject(plugin.runtimeConfig) ? plugin.runtimeConfig : {}), ...runtimeConfig };
  return JSON.stringify(merged);
}

/** Whether DEL and CHECK get the ADD result as prevResult (spec 0.4.0 and later). */
export function versionPassesPrevResultOnDel(cniVersion: string): boolean {
  return !cniVersion.startsWith('0.1.') && !cniVersion.startsWith('0.2.') && !cniVersion.startsWith('0.3.');
}

export interface CniInterface {
  readonly name: string;
  readonly mac?: string;
  readonly sandbox?: string;
}

export interface ParsedResult {
  /** The pod's addresses without prefix length, in result order. */
  readonly ips: readonly string[];
  /** The same with prefix length (the CIDRs of `ips[].address`). */
  readonly cidrs: readonly string[];
  readonly interfaces: readonly CniInterface[];
}

/**
 * Reads a plugin's result (0.3.x, 0.4.0, 1.0.0: `ips[].address`, `interfaces`). Addresses tied to
 * a host-side interface (one without `sandbox`) are not the pod's and are left out.
 */
export function parseResult(text: string): ParsedResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error(`the plugin's result is not JSON: ${JSON.stringify(text.slice(0, 200))}`);
  }
  if (!isObject(raw)) throw new Error('the plugin\'s result is not a JSON object');
  const interfaces: CniInterface[] = (Array.isArray(raw.interfaces) ? raw.interfaces : []).filter(isObject).map((i) => ({
    name: String(i.name ?? ''),
    ...(typeof i.mac === 'string' ? { mac: i.mac } : {}),
    ...(typeof i.sandbox === 'string' ? { sandbox: i.sandbox } : {}),
  }));
  const cidrs: string[] = [];
  for (const entry of Array.isArray(raw.ips) ? raw.ips : []) {
    if (!isObject(entry) || typeof entry.address !== 'string') continue;
    if (typeof entry.interface === 'number') {
      const owner = interfaces[entry.interface];
      if (owner && !owner.sandbox) continue;
    }
    cidrs.push(entry.address);
  }
  return { ips: cidrs.map((cidr) => cidr.split('/')[0] ?? cidr), cidrs, interfaces };
}

/** The message of a CNI error object on a failed plugin's stdout, or undefined when there is none. */
export function parseCniError(stdout: string): string | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  if (!isObject(raw) || (raw.msg === undefined && raw.code === undefined)) return undefined;
  const msg = typeof raw.msg === 'string' ? raw.msg : '';
  const details = typeof raw.details === 'string' && raw.details !== '' ? `: ${raw.details}` : '';
  return `${msg}${details} (CNI error code ${String(raw.code)})`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
