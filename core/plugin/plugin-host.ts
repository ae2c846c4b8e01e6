import type { DependencyContainer, InjectionToken } from 'tsyringe';
import type { DaemonConfig } from '../../config/daemon-config-schema';
import type { HandlerRegistry } from '../cri/handler-registry';
import { describeError, PluginInitError, PluginValidationError } from '../errors';
import type { Logger } from '../log/logger';
import type { ResolvedPlugin } from './plugin-entry';
import type { PluginContext } from './plugin-manifest';

// Runs validated plugins: init in dependency order, stop in reverse. A failed init names the
// plugin, keeps the cause, and stops the plugins already started. Bindings are made once, during
// start-up only, into the daemon's container.

export interface PluginHostOptions {
  readonly container: DependencyContainer;
  readonly config: DaemonConfig;
  readonly registry: HandlerRegistry;
  readonly logger: Logger;
  /** Called for every binding, before it is made; may refuse it by throwing (driver lock). */
  readonly onProvide?: (token: InjectionToken<unknown>, value: unknown, plugin: string) => void;
}

export class PluginHost {
  private readonly stopHooks: { plugin: string; hook: () => void | Promise<void> }[] = [];
  private readonly providers = new Map<InjectionToken<unknown>, string>();
  private bindingOpen = true;
  private stopped = false;

  constructor(private readonly options: PluginHostOptions) {}

  async start(plugins: readonly ResolvedPlugin[]): Promise<void> {
    for (const plugin of plugins) {
      const logger = this.options.logger.child(plugin.identity);
      try {
        await plugin.manifest.init(this.contextFor(plugin, logger));
        logger.debug('started');
      } catch (error) {
        await this.stop();
        throw error instanceof PluginValidationError ? error : new PluginInitError(plugin.identity, error);
      }
    }
    this.bindingOpen = false;
  }

  /** Runs every stop hook once, last started first; one failing hook does not skip the rest. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.bindingOpen = false;
    for (const { plugin, hook } of this.stopHooks.splice(0).reverse()) {
      try {
        await hook();
      } catch (error) {
        this.options.logger.error(`plugin "${plugin}" failed to stop cleanly: ${describeError(error)}`);
      }
    }
  }

  private contextFor(plugin: ResolvedPlugin, logger: Logger): PluginContext<Record<string, unknown>> {
    const { container, registry, config } = this.options;
    return {
      identity: plugin.identity,
      config: plugin.config,
      daemonConfig: config,
      container: container.createChildContainer(),
      logger,
      provide: <T>(token: InjectionToken<T>, value: T) => this.provide(plugin.identity, token, value),
      cri: { handle: (rpc, handler) => registry.contribute(plugin.identity, rpc, handler), observe: (observer) => registry.observe(observer) },
      onStop: (hook) => {
        this.stopHooks.push({ plugin: plugin.identity, hook });
      },
    };
  }

  private provide<T>(plugin: string, token: InjectionToken<T>, value: T): void {
    const name = tokenName(token);
    if (!this.bindingOpen) {
      throw new PluginValidationError(`plugin "${plugin}" tried to bind ${name} after start-up; bindings are fixed for the daemon's lifetime`);
    }
    const existing = this.providers.get(token);
    if (existing || this.options.container.isRegistered(token)) {
      throw new PluginValidationError(
        `${name} is already bound${existing ? ` by "${existing}"` : ' by the core'}; plugin "${plugin}" cannot bind it again`,
      );
    }
    this.options.onProvide?.(token, value, plugin);
    this.options.container.register(token, { useValue: value });
    this.providers.set(token, plugin);
  }
}

function tokenName(token: InjectionToken<unknown>): string {
  if (typeof token === 'symbol') return token.description ?? token.toString();
  if (typeof token === 'function') return token.name;
  return String(token);
}
