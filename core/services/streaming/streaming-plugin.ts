import { definePlugin, PluginType } from '../../plugin/plugin-manifest';
import { StreamingServer } from '../../streaming/streaming-server';
import { ContainerService, RuntimeRegistry, SandboxService } from '../../tokens';
import { attachHandler } from './attach';
import { execHandler } from './exec';
import { portForwardHandler } from './port-forward';

/**
 * service.streaming: the streaming server (daemon.json `websocket-server-listening-port` and
 * `websocket-server-listening-address`, 127.0.0.1 by default) and the RPCs that hand out its URLs: Exec, Attach and PortForward.
 */
export const streamingPlugin = definePlugin({
  id: 'streaming',
  type: PluginType.Service,
  requires: { containers: ContainerService, sandboxes: SandboxService, runtimes: RuntimeRegistry },
  async init(ctx, { containers, sandboxes, runtimes }) {
    const onError = (error: unknown): void => ctx.logger.warn('streaming session failed', { error: error instanceof Error ? error.message : String(error) });
    const host = ctx.daemonConfig.websocketServerListeningAddress;
    const server = new StreamingServer({ port: ctx.daemonConfig.websocketServerListeningPort, host, onError });
    await server.start();
    ctx.onStop(() => server.close());
    ctx.logger.info('streaming server listening', { address: `${host.includes(':') ? `[${host}]` : host}:${server.port}` });
    ctx.cri.handle('Exec', execHandler(containers, runtimes, server, onError));
    ctx.cri.handle('Attach', attachHandler(containers, runtimes, server, onError));
    ctx.cri.handle('PortForward', portForwardHandler(sandboxes, server));
  },
});
