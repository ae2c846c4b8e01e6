import { definePlugin, PluginType } from '../../plugin/plugin-manifest';
import { StreamingServer } from '../../streaming/streaming-server';
import { ContainerService, RuntimeRegistry, SandboxService } from '../../tokens';
import { attachHandler } from './attach-handler';
import { execHandler } from './exec-handler';
import { portForwardHandler } from './port-forward-handler';

/**
 * service.streaming: the streaming server (daemon.json `websocket-server-listening-port` and
 * `websocket-server-listening-address`, 127.0.0.1 by default) and the RPCs that hand out its URLs: Exec, Attach and PortForward.
 */
export const streamingPlugin = definePlugin({
  id: 'streaming',
  type: PluginType.Service,
  requires: ['service.pods'],
  async init(ctx) {
    const containers = ctx.container.resolve<ContainerService>(ContainerService);
    const sandboxes = ctx.container.resolve<SandboxService>(SandboxService);
    const runtimes = ctx.container.resolve<RuntimeRegistry>(RuntimeRegistry);
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
