import * as fs from 'node:fs';
import * as path from 'node:path';
import { container as rootContainer, type InjectionToken } from 'tsyringe';
import type { DaemonConfig } from '../../config/daemon-config-schema';
import { CriServer } from '../cri/cri-server';
import { HandlerRegistry } from '../cri/handler-registry';
import { createLogger, fileSink, stderrSink, type Logger as LoggerShape } from '../log/logger';
import { packageInfo } from '../package-info';
import { loadPluginModules } from '../plugin/load-plugin-modules';
import type { AnyPluginManifest, PluginEntry } from '../plugin/plugin-entry';
import { PluginHost } from '../plugin/plugin-host';
import { validatePlugins } from '../plugin/validate-plugins';
import { RuntimeRegistry as RuntimeRegistryImpl } from '../runtime/runtime-registry';
import { MetadataStore as MetadataStoreImpl } from '../store/metadata-store';
import { CgroupDriver, DaemonConfig as DaemonConfigToken, DaemonInfo, EventBus, Logger, MetadataStore, ObjectLocks, RuntimeRegistry } from '../tokens';
import { KeyedLock } from '../locks/keyed-lock';
import { EventBus as EventBusImpl, STARTUP_BACKLOG_LIMIT } from '../events/event-bus';
import { acquireCgroupDriverLock } from './cgroup-driver-lock';
import { Pidfile } from './pidfile';

// The programmatic entry of Caisson: `createDaemon({ config, plugins })` builds one daemon with
// its own DI container, and `start()` runs it. bin/caissond uses exactly this; an engine builder
// composes its own plugin list the same way.

export interface DaemonOptions {
  /** The effective configuration (loadDaemonConfig or validateDaemonConfig make one). */
  readonly config: DaemonConfig;
  /** The plugins to run, usually `[...builtinPlugins, ...yours]`; daemon.json `plugins` are added. */
  readonly plugins: readonly AnyPluginManifest[];
  /** Defaults to a logger at `log-level` writing where `log-driver` says. */
  readonly logger?: LoggerShape;
}

export interface Daemon {
  readonly config: DaemonConfig;
  /** Validates plugins, listens, starts every plugin, then accepts calls. Cleans up on failure. */
  start(): Promise<void>;
  /** Refuses new calls, finishes in-flight ones, stops plugins in reverse, removes sockets and pidfile. */
  stop(): Promise<void>;
}

export function createDaemon(options: DaemonOptions): Daemon {
  return new CaissonDaemon(options);
}

class CaissonDaemon implements Daemon {
  readonly config: DaemonConfig;
  private readonly logger: LoggerShape;
  private readonly container = rootContainer.createChildContainer();
  private readonly cleanups: (() => void | Promise<void>)[] = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: DaemonOptions) {
    this.config = options.config;
    this.logger = options.logger ?? defaultLogger(options.config);
  }

  async start(): Promise<void> {
    const { config } = this;
    try {
      fs.mkdirSync(config.graph, { recursive: true, mode: 0o700 });
      fs.mkdirSync(config.state, { recursive: true, mode: 0o711 });

      const pidfile = new Pidfile(config.pidfile);
      pidfile.acquire();
      this.cleanups.push(() => pidfile.release());

      const entries: PluginEntry[] = [
        ...this.options.plugins.map((manifest) => ({ manifest, origin: { kind: 'given' } as const })),
        ...(await loadPluginModules(config.plugins, config.source)),
      ];
      const plugins = validatePlugins(entries, config);

      const store = MetadataStoreImpl.open(config.graph);
      this.cleanups.push(() => store.close());
      const registry = new HandlerRegistry();
      const bus = this.bindCore(store, registry, plugins.map((p) => p.identity));

      const host = new PluginHost({
        container: this.container,
        config,
        registry,
        logger: this.logger,
        onProvide: (token, value) => this.checkBinding(token, value, store),
      });
      this.cleanups.push(() => host.stop());

      // Listen before plugins start, so clients get UNAVAILABLE (not "connection refused")
      // while start-up runs; on shutdown the server stops first, then the plugins.
      const server = new CriServer(config, registry, this.logger, () => store.flush());
      this.cleanups.push(() => server.stop());
      await server.listen();

      await host.start(plugins);

      // What recovery wrote is on disk before the first call is answered.
      await store.flush();
      // Every plugin has subscribed what it will: the events recovery published are delivered.
      const dropped = bus.endStartup();
      if (dropped > 0) this.logger.warn(`${dropped} lifecycle events published during start-up were dropped (the start-up backlog holds ${STARTUP_BACKLOG_LIMIT}); event subscribers should relist`);
      server.markReady();
      this.logger.info(`caissond ${packageInfo().version} ready`, { config: config.source, plugins: plugins.map((p) => p.identity) });
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  stop(): Promise<void> {
    this.stopping ??= this.runCleanups();
    return this.stopping;
  }

  private async runCleanups(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        this.logger.error(`shutdown step failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    this.container.clearInstances();
  }

  private bindCore(store: MetadataStoreImpl, registry: HandlerRegistry, plugins: string[]): EventBusImpl {
    const { config } = this;
    this.container.register(DaemonConfigToken, { useValue: config });
    this.container.register(Logger, { useValue: this.logger });
    this.container.register(MetadataStore, { useValue: store });
    this.container.register(RuntimeRegistry, { useValue: new RuntimeRegistryImpl(config.defaultRuntime, config.criRuntimes) });
    const info: DaemonInfo = { version: packageInfo().version, startedAt: new Date(), plugins, handlerOwners: () => registry.owners() };
    this.container.register(DaemonInfo, { useValue: info });
    const bus = new EventBusImpl((error) => this.logger.error(`event listener failed: ${error instanceof Error ? error.message : String(error)}`));
    this.container.register(EventBus, { useValue: bus });
    this.container.register(ObjectLocks, { useValue: new KeyedLock() });
    return bus;
  }

  /** The cgroup driver is bound once, and only if the node's state was made with the same driver. */
  private checkBinding(token: InjectionToken<unknown>, value: unknown, store: MetadataStoreImpl): void {
    if (token !== CgroupDriver) return;
    const driver = value as CgroupDriver;
    const { previous } = acquireCgroupDriverLock(store, driver.name);
    if (previous !== undefined && previous !== driver.name) {
      this.logger.info(`cgroup driver changed from "${previous}" to "${driver.name}" (no sandboxes or containers existed)`);
    }
  }
}

function defaultLogger(config: DaemonConfig): LoggerShape {
  if (config.logDriver === 'file') {
    fs.mkdirSync(config.graph, { recursive: true, mode: 0o700 });
    return createLogger(config.logLevel, fileSink(path.join(config.graph, 'caissond.log')));
  }
  return createLogger(config.logLevel, stderrSink());
}
