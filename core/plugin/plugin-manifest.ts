import type { ZodType, ZodTypeDef } from 'zod';
import type { DaemonConfig } from '../../config/daemon-config-schema';
import type { CriHandlerMap, CriRpcName } from '../cri/cri-handler-types';
import type { CriCallObserver } from '../cri/handler-registry';
import type { Logger } from '../tokens';
import type { Injected, Requirements, Token } from './token';

// What a plugin is: a typed manifest. Its identity is `<type>.<id>` (runtime.runc,
// cgroup-driver.systemd, events.pod-events). The loader reads every manifest before it runs any
// `init`, so mistakes in the set are reported before anything touches the host.

export enum PluginType {
  Runtime = 'runtime',
  CgroupDriver = 'cgroup-driver',
  Events = 'events',
  Network = 'network',
  Image = 'image',
  Service = 'service',
}

export interface PluginSelection {
  /** The daemon.json key that decides whether this plugin runs (named in error messages). */
  readonly key: string;
  /** True when the plugin should run under this configuration. */
  readonly when: (config: DaemonConfig) => boolean;
}

export interface PluginManifest<TConfig = Record<string, unknown>, TRequires extends Requirements = Requirements> {
  /** Lower-case letters, digits and dashes; unique within its type. */
  readonly id: string;
  readonly type: PluginType;
  /**
   * What `init` receives: a name for each token this plugin needs (`{ driver: CgroupDriver }`),
   * or `optional(token)` for one it can do without. Each token must be bound by the core or by an
   * enabled plugin that lists it in `provides`; that plugin is initialised first.
   */
  readonly requires?: TRequires;
  /** The tokens this plugin binds with `ctx.provide` (one provider per token per daemon). */
  readonly provides?: readonly Token<unknown>[];
  /**
   * Plugins that must be initialised first though this one receives nothing from them: a plugin
   * type (every enabled plugin of that type, at least one) or a full identity such as
   * "cgroup-driver.systemd". (The pods service runs after every runtime plugin this way, since
   * runtimes register themselves in the RuntimeRegistry.)
   */
  readonly after?: readonly (PluginType | string)[];
  /** Validates this plugin's section of daemon.json `plugin-config` (keyed by identity). */
  readonly configSchema?: ZodType<TConfig, ZodTypeDef, unknown>;
  /** Built-ins that run only under some configuration say which key selects them. */
  readonly selectedBy?: PluginSelection;
  /** Runtime plugins: the runtime names they serve under this configuration. */
  readonly runtimes?: (config: DaemonConfig) => readonly string[];
  readonly init: (ctx: PluginContext<TConfig>, required: Injected<TRequires>) => void | Promise<void>;
}

/** The handle a plugin gets in `init`: its configuration and the daemon's extension points. */
export interface PluginContext<TConfig = Record<string, unknown>> {
  readonly identity: string;
  /** This plugin's validated `plugin-config` section ({} when absent). */
  readonly config: TConfig;
  readonly daemonConfig: DaemonConfig;
  readonly logger: Logger;
  /**
   * Binds a value for every later plugin and service. Only tokens listed in the manifest's
   * `provides`, once per daemon, and only during start-up.
   */
  provide<T>(token: Token<T>, value: T): void;
  /** CRI contribution point: one handler per RPC across the whole daemon. */
  readonly cri: CriContribution;
  /** Runs at shutdown, in reverse plugin order; each hook runs once even if stop is called twice. */
  onStop(hook: () => void | Promise<void>): void;
}

export interface CriContribution {
  handle<K extends CriRpcName>(rpc: K, handler: CriHandlerMap[K]): void;
  /** Calls `observer` once for every finished CRI call, whoever answered it (for metrics, audit). */
  observe(observer: CriCallObserver): void;
}

/** Types a manifest; it only returns its argument, so defining a plugin has no side effects. */
export function definePlugin<TConfig = Record<string, unknown>, TRequires extends Requirements = Record<never, never>>(
  manifest: PluginManifest<TConfig, TRequires>,
): PluginManifest<TConfig, TRequires> {
  return manifest;
}

export function identityOf(manifest: Pick<PluginManifest<unknown>, 'type' | 'id'>): string {
  return `${manifest.type}.${manifest.id}`;
}
