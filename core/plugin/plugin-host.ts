import type { DependencyContainer } from 'tsyringe';
import type { DaemonConfig } from '../../config/daemon-config-schema';
import type { HandlerRegistry } from '../cri/handler-registry';
import { describeError, PluginInitError, PluginValidationError } from '../errors';
import type { Logger } from '../tokens';
import type { ResolvedPlugin } from './plugin-entry';
import type { PluginContext } from './plugin-manifest';
import { isOptionalToken, requirementsOf, tokenName, type Token } from './token';

// Runs validated plugins: init in dependency order, stop in reverse. A failed init names the
// plugin, keeps the cause, and stops the plugins already started. Bindings are made once, during
// start-up only, into the daemon's container.

export interface PluginHostOptions {
  readonly container: DependencyContainer;
  readonly config: DaemonConfig;
  readonly registry: HandlerRegistry;
  readonly logger: Logger;
  /** Called for every binding, before it is made; may refuse it by throwing (driver lock). */
  readonly onProvide?: (token: symbol, value: unknown, plugin: string) => void;
}

export class PluginHost {
  private readonly stopHooks: { plugin: string; hook: () => void | Promise<void> }[] = [];
  private readonly providers = new Map<symbol, string>();
  private bindingOpen = true;
  private stopped = false;

  constructor(private readonly options: PluginHostOptions) {}

  async start(plugins: readonly ResolvedPlugin[]): Promise<void> {
    for (const plugin of plugins) {
      const logger = this.options.logger.child(plugin.identity);
      try {
        await plugin.manifest.init(this.contextFor(plugin, logger), this.injectionsFor(plugin) as never);
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

  /** What the manifest's `requires` names, resolved from the daemon's container (undefined for an unbound optional token). */
  private injectionsFor(plugin: ResolvedPlugin): Record<string, unknown> {
    const { container } = this.options;
    const injected: Record<string, unknown> = {};
    for (const [name, requirement] of requirementsOf(plugin.manifest.requires)) {
      const token = isOptionalToken(requirement) ? requirement.optional : requirement;
      if (container.isRegistered(token, true)) injected[name] = container.resolve(token);
      else if (isOptionalToken(requirement)) injected[name] = undefined;
      else throw new PluginValidationError(`plugin "${plugin.identity}" requires ${tokenName(token)} (as "${name}"), and nothing bound it before this plugin started`);
    }
    return injected;
  }

  private contextFor(plugin: ResolvedPlugin, logger: Logger): PluginContext<Record<string, unknown>> {
    const { registry, config } = this.options;
    return {
      identity: plugin.identity,
      config: plugin.config,
      daemonConfig: config,
      logger,
      provide: <T>(token: Token<T>, value: T) => this.provide(plugin, token, value),
      cri: { handle: (rpc, handler) => registry.contribute(plugin.identity, rpc, handler), observe: (observer) => registry.observe(observer) },
      onStop: (hook) => {
        this.stopHooks.push({ plugin: plugin.identity, hook });
      },
    };
  }

  private provide<T>(plugin: ResolvedPlugin, token: Token<T>, value: T): void {
    const name = tokenName(token);
    const identity = plugin.identity;
    if (!this.bindingOpen) {
      throw new PluginValidationError(`plugin "${identity}" tried to bind ${name} after start-up; bindings are fixed for the daemon's lifetime`);
    }
    if (!(plugin.manifest.provides ?? []).includes(token)) {
      throw new PluginValidationError(`plugin "${identity}" binds ${name} without listing it in its manifest's "provides"`);
    }
    const existing = this.providers.get(token);
    if (existing || this.options.container.isRegistered(token)) {
      throw new PluginValidationError(
        `${name} is already bound${existing ? ` by "${existing}"` : ' by the core'}; plugin "${identity}" cannot bind it again`,
      );
    }
    this.options.onProvide?.(token, value, identity);
    this.options.container.register(token, { useValue: value });
    this.providers.set(token, identity);
  }
}
