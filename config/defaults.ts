import type { DaemonConfig } from './daemon-config-schema';

// The embedded default: what `caissond` runs with when no daemon.json exists. Paths follow
// iSulad's layout under Caisson's own names. docs/daemon-json.md lists the same values; a unit
// test keeps the two in step.

export const DEFAULT_SOCKET = 'unix:///var/run/caisson/caisson.sock';

export const DEFAULT_CONFIG: Omit<DaemonConfig, 'source'> = {
  hosts: [DEFAULT_SOCKET],
  group: 'caisson',
  graph: '/var/lib/caisson',
  state: '/var/run/caisson',
  pidfile: '/var/run/caissond.pid',
  logLevel: 'info',
  logDriver: 'stdout',
  defaultRuntime: 'runc',
  runtimes: {},
  criRuntimes: {},
  enableCriV1: true,
  systemdCgroup: false,
  cgroupParent: '',
  enablePodEvents: false,
  enableCriuSupport: false,
  podSandboxImage: '',
  networkPlugin: 'cni',
  cniBinDirs: ['/usr/lib/cni', '/opt/cni/bin'],
  cniConfDir: '/etc/cni/net.d',
  registryMirrors: [],
  registryHostMirrors: {},
  insecureRegistries: [],
  websocketServerListeningPort: 10350,
  websocketServerListeningAddress: '127.0.0.1',
  metricsPort: 0,
  metricsAddress: '127.0.0.1',
  containerLog: { maxSize: '-1', maxFile: 1 },
  plugins: [],
  pluginConfig: {},
};
