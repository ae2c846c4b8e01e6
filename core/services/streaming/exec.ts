import type { ContainerService } from '../../tokens';
import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { ExecRequest__Output } from '../../cri/generated/runtime/v1/ExecRequest';
import type { ExecResponse } from '../../cri/generated/runtime/v1/ExecResponse';
import { FailedPreconditionError, InvalidArgumentError } from '../../errors';
import type { RuntimeRegistry } from '../../tokens';
import { execCommand, type ExecTarget } from '../../streaming/exec-process';
import { serveRemoteCommandSpdy } from '../../streaming/spdy-remote-command';
import { serveRemoteCommand } from '../../streaming/ws-remote-command';
import type { StreamingServer } from '../../streaming/streaming-server';

// Exec: validates the request and answers a single-use URL on the streaming server; the command
// runs when the client opens it.

export function execHandler(
  containers: ContainerService,
  runtimes: RuntimeRegistry,
  server: StreamingServer,
  onError: (error: unknown) => void,
): UnaryCriHandler<ExecRequest__Output, ExecResponse> {
  return async (request) => {
    validateExecRequest(request);
    const record = containers.get(request.container_id);
    if (record.state !== 'CONTAINER_RUNNING') {
      throw new FailedPreconditionError(`container ${record.id} is not running (${record.state}); Exec needs a running container`);
    }
    const runtime = runtimes.forHandler(record.runtimeName);
    const target: ExecTarget = { runtime, record, cmd: request.cmd, tty: request.tty, stdin: request.stdin, stdout: request.stdout, stderr: request.stderr };
    const command = execCommand(target);
    const url = server.register({
      kind: 'exec',
      serve: (ws, subprotocol) => serveRemoteCommand(ws, subprotocol, command, onError),
      serveSpdy: (connection, protocol) => serveRemoteCommandSpdy(connection, protocol, command, onError),
    });
    return { url };
  };
}

/** The checks that need no container: a command, some stream, not tty with stderr. */
export function validateExecRequest(request: ExecRequest__Output): void {
  const id = request.container_id;
  if (id === '') throw new InvalidArgumentError('Exec needs a container_id');
  if (request.cmd.length === 0 || request.cmd[0] === '') throw new InvalidArgumentError(`Exec in container ${id} needs a command`);
  if (!request.stdin && !request.stdout && !request.stderr) {
    throw new InvalidArgumentError(`Exec in container ${id}: one of stdin, stdout or stderr must be set`);
  }
  if (request.tty && request.stderr) {
    throw new InvalidArgumentError(`Exec in container ${id}: tty and stderr cannot both be set (a terminal merges stderr into stdout)`);
  }
}
