import * as fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { DaemonConfig } from '../../config/daemon-config-schema';
import type { Logger } from '../log/logger';
import { buildServiceImplementation } from './grpc-adapter';
import type { HandlerRegistry } from './handler-registry';
import { InFlightCalls } from './in-flight-calls';
import { loadCaissonServices, loadCriServices } from './cri-proto';
import { unimplementedMessage } from './unimplemented-hints';
import { prepareSocketPath, restrictSocket, socketPathOf } from './unix-socket';

// The CRI gRPC server: runtime.v1 services (when `enable-cri-v1`), runtime.v1alpha2 services
// (always, for older kubelets) and Caisson's own caisson.v1 services, on every unix socket of
// `hosts`, all sharing one handler registry.

/**
 * How long shutdown waits for in-flight unary calls to finish on their own. 30 s is above the
 * time any one CRI operation takes here (a RunPodSandbox with CNI, a StopContainer's grace period
 * as the kubelet sends it is shorter) and below systemd's default TimeoutStopSec (90 s), so a
 * unit stop never SIGKILLs a daemon that is still draining.
 */
export const DRAIN_BOUND_MS = 30_000;
/** After the bound, how long the stragglers get to roll back once their signal is aborted. */
export const ROLLBACK_GRACE_MS = 5_000;

export class CriServer {
  private readonly server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  private readonly socketPaths: string[] = [];
  private ready = false;
  private readonly shutdown = new AbortController();
  private readonly inFlight = new InFlightCalls();

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
      inFlight: this.inFlight,
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
   * Drains, so that nothing is left half-made: refuses new calls (UNAVAILABLE on open
   * connections; the listening sockets close), ends open streams with UNAVAILABLE, waits up to
   * DRAIN_BOUND_MS for in-flight unary handlers to finish, then aborts the stragglers' signals
   * and gives them ROLLBACK_GRACE_MS to undo their work; only then does it close the transport
   * and remove the sockets, and the daemon goes on to stop the plugins.
   */
  async stop(): Promise<void> {
    this.ready = false;
    this.shutdown.abort();
    // Stops listening at once; its callback waits for the sessions, which the handlers' own
    // wait below covers (a call whose client left is no session but is still running).
    const transportClosed = new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    if (this.inFlight.count > 0) this.logger.info(`shutting down: waiting up to ${DRAIN_BOUND_MS} ms for ${this.inFlight.count} in-flight call(s): ${this.inFlight.names().join(', ')}`);
    if (!(await this.inFlight.idle(DRAIN_BOUND_MS))) {
      this.logger.warn(`in-flight calls did not finish within ${DRAIN_BOUND_MS} ms: ${this.inFlight.names().join(', ')}; asking them to roll back`);
      this.inFlight.abortAll(`caissond is shutting down and the call did not finish within ${DRAIN_BOUND_MS} ms`);
      if (!(await this.inFlight.idle(ROLLBACK_GRACE_MS))) {
        this.logger.error(`in-flight calls still running ${ROLLBACK_GRACE_MS} ms after being aborted: ${this.inFlight.names().join(', ')}; stopping anyway`);
      }
    }
    // Every handler has answered: what is left on the transport is only bytes being flushed.
    const flushed = await Promise.race([transportClosed.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2_000).unref())]);
    if (!flushed) this.server.forceShutdown();
    for (const socketPath of this.socketPaths.splice(0)) fs.rmSync(socketPath, { force: true });
  }
}
