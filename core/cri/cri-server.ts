import * as fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { DaemonConfig } from '../../config/daemon-config-schema';
import type { Logger } from '../log/logger';
import { buildServiceImplementation } from './grpc-adapter';
import type { HandlerRegistry } from './handler-registry';
import { loadCaissonServices, loadCriServices } from './cri-proto';
import { unimplementedMessage } from './unimplemented-hints';
import { prepareSocketPath, restrictSocket, socketPathOf } from './unix-socket';

// The CRI gRPC server: runtime.v1 services (when `enable-cri-v1`), runtime.v1alpha2 services
// (always, for older kubelets) and Caisson's own caisson.v1 services, on every unix socket of
// `hosts`, all sharing one handler registry.

const GRACEFUL_STOP_MS = 10_000;

export class CriServer {
  private readonly server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  private readonly socketPaths: string[] = [];
  private ready = false;
  private readonly shutdown = new AbortController();

  constructor(
    private readonly config: DaemonConfig,
    private readonly registry: HandlerRegistry,
    private readonly logger: Logger,
  ) {
    const context = {
      registry,
      logger: logger.child('cri'),
      isReady: () => this.ready,
      unimplemented: (rpc: string) => unimplementedMessage(rpc, config),
      shutdownSignal: this.shutdown.signal,
    };
    const versions = config.enableCriV1 ? (['v1', 'v1alpha2'] as const) : (['v1alpha2'] as const);
    for (const version of versions) {
      const services = loadCriServices(version);
      for (const service of [services.RuntimeService, services.ImageService]) {
        this.server.addService(service.service, buildServiceImplementation(service.service, version, context));
      }
    }
    const caisson = loadCaissonServices();
    this.server.addService(caisson.Images.service, buildServiceImplementation(caisson.Images.service, 'v1', context));
  }

  /** Binds every socket of `hosts`; calls answer UNAVAILABLE until markReady(). */
  async listen(): Promise<void> {
    for (const host of this.config.hosts) {
      const socketPath = socketPathOf(host);
      await prepareSocketPath(socketPath);
      await new Promise<void>((resolve, reject) => {
        this.server.bindAsync(`unix://${socketPath}`, grpc.ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve()));
      });
      this.socketPaths.push(socketPath);
      restrictSocket(socketPath, this.config.group, this.logger);
      this.logger.info(`listening on unix://${socketPath}`);
    }
  }

  markReady(): void {
    this.ready = true;
  }

  /**
   * Refuses new calls, ends open streams with UNAVAILABLE, lets in-flight unary calls finish
   * (bounded), then removes the sockets.
   */
  async stop(): Promise<void> {
    this.ready = false;
    this.shutdown.abort();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.logger.warn(`in-flight calls did not finish within ${GRACEFUL_STOP_MS} ms; closing them`);
        this.server.forceShutdown();
        resolve();
      }, GRACEFUL_STOP_MS);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    for (const socketPath of this.socketPaths.splice(0)) fs.rmSync(socketPath, { force: true });
  }
}
