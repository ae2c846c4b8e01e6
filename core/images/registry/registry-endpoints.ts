import { DOCKER_HUB } from '../image-reference';

// Where to fetch a registry's content from, in order: its mirrors, then the registry itself.
// `registry-mirrors` serve docker.io (iSulad's meaning); `registry-host-mirrors` name mirrors for
// any registry. A registry listed in `insecure-registries` is tried over HTTPS without
// certificate checks, then over plain HTTP; every other one gets verified HTTPS only. A mirror
// written as an http:// URL is plain HTTP because the operator said so.

export interface RegistryEndpoint {
  /** Base URL; requests go to <base>/v2/… */
  readonly base: URL;
  /** Skip TLS certificate verification for this endpoint. */
  readonly insecureSkipVerify: boolean;
  readonly isMirror: boolean;
}

export interface EndpointSettings {
  readonly registryMirrors: readonly string[];
  readonly registryHostMirrors: Readonly<Record<string, readonly string[]>>;
  readonly insecureRegistries: readonly string[];
}

const DOCKER_HUB_API = 'registry-1.docker.io';

export function registryEndpoints(registry: string, settings: EndpointSettings): RegistryEndpoint[] {
  const mirrors = registry === DOCKER_HUB ? settings.registryMirrors : (settings.registryHostMirrors[registry] ?? []);
  const endpoints = mirrors.flatMap((mirror) => endpointsForHost(mirror, settings, true));
  return [...endpoints, ...endpointsForHost(registry === DOCKER_HUB ? DOCKER_HUB_API : registry, settings, false)];
}

function endpointsForHost(entry: string, settings: EndpointSettings, isMirror: boolean): RegistryEndpoint[] {
  if (/^https?:\/\//.test(entry)) {
    const base = new URL(entry.replace(/\/+$/, ''));
    return [{ base, insecureSkipVerify: isInsecure(base.host, settings), isMirror }];
  }
  const insecure = isInsecure(entry, settings);
  const secure: RegistryEndpoint = { base: new URL(`https://${entry}`), insecureSkipVerify: insecure, isMirror };
  return insecure ? [secure, { base: new URL(`http://${entry}`), insecureSkipVerify: true, isMirror }] : [secure];
}

/** Listed in `insecure-registries`, as host:port or as host. */
export function isInsecure(hostWithPort: string, settings: Pick<EndpointSettings, 'insecureRegistries'>): boolean {
  return settings.insecureRegistries.includes(hostWithPort) || settings.insecureRegistries.includes(hostOnly(hostWithPort));
}

function hostOnly(hostWithPort: string): string {
  if (hostWithPort.startsWith('[')) return hostWithPort.slice(1, hostWithPort.indexOf(']'));
  const colon = hostWithPort.lastIndexOf(':');
  return colon >= 0 ? hostWithPort.slice(0, colon) : hostWithPort;
}
