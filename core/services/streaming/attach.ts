import type { ContainerRecord } from '../../containers/container-record';
import type { ContainerService } from '../../tokens';
import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { AttachRequest__Output } from '../../cri/generated/runtime/v1/AttachRequest';
import type { AttachResponse } from '../../cri/generated/runtime/v1/AttachResponse';
import { FailedPreconditionError, InvalidArgumentError } from '../../errors';
import type { RuntimeRegistry } from '../../tokens';
import { attachCommand } from '../../streaming/attach-process';
import { serveRemoteCommandSpdy } from '../../streaming/spdy-remote-command';
import type { StreamingServer } from '../../streaming/streaming-server';
import { serveRemoteCommand } from '../../streaming/ws-remote-command';

// Attach: validates the request against the container and answers a single-use URL on the
// streaming server; the session attaches through the container's runtime when the client opens it.

export function attachHandler(
  containers: ContainerService,
  runtimes: RuntimeRegistry,
  server: StreamingServer,
  onError: (error: unknown) => void,
): UnaryCriHandler<AttachRequest__Output, AttachResponse> {
  return async (request) => {
    validateAttachRequest(request);
    const record = containers.get(request.container_id);
    checkAttachable(record, request);
    const runtime = runtimes.forHandler(record.runtimeName);
    const attach = runtime.attach?.bind(runtime);
    if (!attach) {
      throw new FailedPreconditionError(`Attach to container ${record.id}: its runtime "${runtime.name}" offers no attach socket (Exec works)`);
    }
    const paths = { ...record.paths, logPath: record.logPath };
    const command = attachCommand({ record, open: (events) => attach(paths, events), stdin: request.stdin, stdout: request.stdout, stderr: request.stderr, tty: request.tty });
    const url = server.register({
      kind: 'attach',
      serve: (ws, subprotocol) => serveRemoteCommand(ws, subprotocol, command, onError),
      serveSpdy: (connection, protocol) => serveRemoteCommandSpdy(connection, protocol, command, onError),
    });
    return { url };
  };
}

/** The checks that need no container (the kubelet's streaming server makes the same): some stream, not tty with stderr. */
export function validateAttachRequest(request: AttachRequest__Output): void {
  const id = request.container_id;
  if (id === '') throw new InvalidArgumentError('Attach needs a container_id');
  if (!request.stdin && !request.stdout && !request.stderr) {
    throw new InvalidArgumentError(`Attach to container ${id}: one of stdin, stdout or stderr must be set`);
  }
  if (request.tty && request.stderr) {
    throw new InvalidArgumentError(`Attach to container ${id}: tty and stderr cannot both be set (a terminal merges stderr into stdout)`);
  }
}

/**
 * The checks against the container: it runs, and it was created with what the client asks for.
 * Stdin of a container created without it leads nowhere (conmon holds no stdin to write to), and
 * a TTY the container lacks cannot be resized or given raw input. The other way round is fine:
 * a client without a TTY may attach to a TTY container (`kubectl attach` without -t) and reads
 * the terminal's output as stdout.
 */
export function checkAttachable(record: ContainerRecord, request: AttachRequest__Output): void {
  if (record.state !== 'CONTAINER_RUNNING') {
    throw new FailedPreconditionError(`container ${record.id} is not running (${record.state}); Attach needs a running container`);
  }
  if (request.stdin && !record.config.stdin) {
    throw new FailedPreconditionError(
      `Attach to container ${record.id}: stdin was requested, but the container was created without stdin (set stdin in its config to attach input)`,
    );
  }
  if (request.tty && !record.config.tty) {
    throw new FailedPreconditionError(
      `Attach to container ${record.id}: a TTY was requested, but the container was created without one (attach without tty, or create it with tty)`,
    );
  }
}
