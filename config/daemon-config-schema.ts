import { isIP } from 'node:net';
import { z } from 'zod';

// The shape of daemon.json. Key names follow iSulad's where iSulad has the key, so an operator
// can carry a daemon.json across. Every key is optional in the file; defaults live in
// ./defaults.ts. `.strict()` makes an unknown key an error instead of a silent no-op.

const logLevel = z.enum(['debug', 'info', 'warn', 'error']);

const runtimeEntry = z
  .object({
    path: z.string().min(1),
    'runtime-args': z.array(z.string()).optional(),
  })
  .strict();

const sizeString = z
  .string()
  .regex(/^(-1|\d+(\.\d+)?\s*([kKmMgG]i?[bB]?|[bB])?)$/, 'a size such as "10MB", "512KiB" or "-1" for no limit');

const containerLog = z
  .object({
    opts: z
      .object({
        'max-size': sizeString.optional(),
        'max-file': z.number().int().min(1).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const hostUri = z
  .string()
  .regex(/^unix:\/\/\/.+/, 'a unix socket address such as "unix:///var/run/caisson/caisson.sock"');

const portNumber = z.number().int().min(0).max(65535);

const pathList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const daemonConfigFileSchema = z
  .object({
    hosts: z.array(hostUri).min(1).optional(),
    group: z.string().min(1).optional(),
    graph: z.string().min(1).optional(),
    state: z.string().min(1).optional(),
    pidfile: z.string().min(1).optional(),
    'log-level': logLevel.optional(),
    'log-driver': z.enum(['stdout', 'file']).optional(),
    'default-runtime': z.string().min(1).optional(),
    runtimes: z.record(z.string().min(1), runtimeEntry).optional(),
    'cri-runtimes': z.record(z.string().min(1), z.string().min(1)).optional(),
    'enable-cri-v1': z.boolean().optional(),
    'systemd-cgroup': z.boolean().optional(),
    'cgroup-parent': z.string().optional(),
    'enable-pod-events': z.boolean().optional(),
    'enable-criu-support': z.boolean().optional(),
    'pod-sandbox-image': z.string().optional(),
    'network-plugin': z.string().optional(),
    'cni-bin-dir': pathList.optional(),
    'cni-conf-dir': z.string().min(1).optional(),
    'registry-mirrors': z.array(z.string().min(1)).optional(),
    'registry-host-mirrors': z.record(z.string().min(1), z.array(z.string().min(1))).optional(),
    'insecure-registries': z.array(z.string().min(1)).optional(),
    'websocket-server-listening-port': portNumber.optional(),
    'websocket-server-listening-address': z
      .string()
      .refine((value) => isIP(value) !== 0, { message: 'must be an IP address such as "127.0.0.1", "0.0.0.0" or "::1" (the streaming server binds it)' })
      .optional(),
    'container-log': containerLog.optional(),
    'metrics-port': portNumber.optional(),
    'metrics-address': z
      .string()
      .refine((value) => isIP(value) !== 0, { message: 'must be an IP address such as "127.0.0.1" (the metrics endpoint binds it)' })
      .optional(),
    plugins: z.array(z.string().min(1)).optional(),
    'plugin-config': z.record(z.string().min(1), z.record(z.unknown())).optional(),
  })
  .strict();

/** daemon.json as written by the operator: every key optional. */
export type DaemonConfigFile = z.infer<typeof daemonConfigFileSchema>;

export type LogLevel = z.infer<typeof logLevel>;

export interface RuntimeEntry {
  readonly path: string;
  readonly runtimeArgs: readonly string[];
}

/**
 * The effective configuration after defaults: every key present, lists normalised. Services and
 * plugins read this through the DaemonConfig token, never the raw file.
 */
export interface DaemonConfig {
  readonly hosts: readonly string[];
  readonly group: string;
  readonly graph: string;
  readonly state: string;
  readonly pidfile: string;
  readonly logLevel: LogLevel;
  readonly logDriver: 'stdout' | 'file';
  readonly defaultRuntime: string;
  readonly runtimes: Readonly<Record<string, RuntimeEntry>>;
  readonly criRuntimes: Readonly<Record<string, string>>;
  readonly enableCriV1: boolean;
  readonly systemdCgroup: boolean;
  readonly cgroupParent: string;
  readonly enablePodEvents: boolean;
  /** CheckpointContainer and restore from a checkpoint archive with CRIU (CRI-O's enable_criu_support). */
  readonly enableCriuSupport: boolean;
  readonly podSandboxImage: string;
  readonly networkPlugin: string;
  readonly cniBinDirs: readonly string[];
  readonly cniConfDir: string;
  readonly registryMirrors: readonly string[];
  readonly registryHostMirrors: Readonly<Record<string, readonly string[]>>;
  readonly insecureRegistries: readonly string[];
  readonly websocketServerListeningPort: number;
  /** The streaming server's bind address (and the host of the URLs it hands out). */
  readonly websocketServerListeningAddress: string;
  readonly containerLog: { readonly maxSize: string; readonly maxFile: number };
  /** Port of the Prometheus /metrics endpoint; 0 (the default) leaves it off. */
  readonly metricsPort: number;
  readonly metricsAddress: string;
  readonly plugins: readonly string[];
  readonly pluginConfig: Readonly<Record<string, Record<string, unknown>>>;
  /** Where the configuration came from, for logs and `caisson info`. */
  readonly source: string;
}
