import type { DaemonConfig, DaemonConfigFile, RuntimeEntry } from './daemon-config-schema';
import { DEFAULT_CONFIG } from './defaults';

/** Fills in defaults and normalises a validated daemon.json into the effective configuration. */
export function resolveDaemonConfig(file: DaemonConfigFile, source: string): DaemonConfig {
  const d = DEFAULT_CONFIG;
  const binDirs = file['cni-bin-dir'];
  return {
    hosts: file.hosts ?? d.hosts,
    group: file.group ?? d.group,
    graph: file.graph ?? d.graph,
    state: file.state ?? d.state,
    pidfile: file.pidfile ?? d.pidfile,
    logLevel: file['log-level'] ?? d.logLevel,
    logDriver: file['log-driver'] ?? d.logDriver,
    defaultRuntime: file['default-runtime'] ?? d.defaultRuntime,
    runtimes: resolveRuntimes(file.runtimes ?? {}),
    criRuntimes: file['cri-runtimes'] ?? d.criRuntimes,
    enableCriV1: file['enable-cri-v1'] ?? d.enableCriV1,
    systemdCgroup: file['systemd-cgroup'] ?? d.systemdCgroup,
    cgroupParent: file['cgroup-parent'] ?? d.cgroupParent,
    enablePodEvents: file['enable-pod-events'] ?? d.enablePodEvents,
    enableCriuSupport: file['enable-criu-support'] ?? d.enableCriuSupport,
    podSandboxImage: file['pod-sandbox-image'] ?? d.podSandboxImage,
    networkPlugin: file['network-plugin'] ?? d.networkPlugin,
    cniBinDirs: binDirs === undefined ? d.cniBinDirs : typeof binDirs === 'string' ? binDirs.split(':') : binDirs,
    cniConfDir: file['cni-conf-dir'] ?? d.cniConfDir,
    registryMirrors: file['registry-mirrors'] ?? d.registryMirrors,
    registryHostMirrors: file['registry-host-mirrors'] ?? d.registryHostMirrors,
    insecureRegistries: file['insecure-registries'] ?? d.insecureRegistries,
    websocketServerListeningPort: file['websocket-server-listening-port'] ?? d.websocketServerListeningPort,
    websocketServerListeningAddress: file['websocket-server-listening-address'] ?? d.websocketServerListeningAddress,
    metricsPort: file['metrics-port'] ?? d.metricsPort,
    metricsAddress: file['metrics-address'] ?? d.metricsAddress,
    containerLog: {
      maxSize: file['container-log']?.opts?.['max-size'] ?? d.containerLog.maxSize,
      maxFile: file['container-log']?.opts?.['max-file'] ?? d.containerLog.maxFile,
    },
    plugins: file.plugins ?? d.plugins,
    pluginConfig: file['plugin-config'] ?? d.pluginConfig,
    source,
  };
}

function resolveRuntimes(entries: NonNullable<DaemonConfigFile['runtimes']>): Record<string, RuntimeEntry> {
  const out: Record<string, RuntimeEntry> = {};
  for (const [name, entry] of Object.entries(entries)) {
    out[name] = { path: entry.path, runtimeArgs: entry['runtime-args'] ?? [] };
  }
  return out;
}
