import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { PortForwardRequest__Output } from '../../cri/generated/runtime/v1/PortForwardRequest';
import type { PortForwardResponse } from '../../cri/generated/runtime/v1/PortForwardResponse';
import { FailedPreconditionError, InvalidArgumentError } from '../../errors';
import type { SandboxService } from '../../tokens';
import { servePortForward, type RelayHelper } from '../../streaming/port-forward-session';
import { servePortForwardSpdy } from '../../streaming/spdy-port-forward-session';
import type { StreamingServer } from '../../streaming/streaming-server';

// PortForward: validates the sandbox (ready) and the ports, and answers a single-use URL on the
// streaming server; connections into the pod's network namespace are made when the client opens it.

export function portForwardHandler(sandboxes: SandboxService, server: StreamingServer, relay?: RelayHelper): UnaryCriHandler<PortForwardRequest__Output, PortForwardResponse> {
  return async (request) => {
    if (request.pod_sandbox_id === '') throw new InvalidArgumentError('PortForward needs a pod_sandbox_id');
    for (const port of request.port) {
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new InvalidArgumentError(`PortForward to sandbox ${request.pod_sandbox_id}: invalid port ${port} (ports are 1-65535)`);
      }
    }
    const sandbox = sandboxes.get(request.pod_sandbox_id);
    if (sandbox.state !== 'SANDBOX_READY') {
      throw new FailedPreconditionError(`sandbox ${sandbox.id} is not ready (${sandbox.state}); PortForward needs a ready sandbox`);
    }
    const target = { sandboxId: sandbox.id, netns: sandbox.namespaces.network, ports: [...request.port] };
    const url = server.register({
      kind: 'portforward',
      serve: (ws, _subprotocol, query) => servePortForward(ws, query, target, relay),
      serveSpdy: (connection) => servePortForwardSpdy(connection, target, relay),
    });
    return { url };
  };
}
