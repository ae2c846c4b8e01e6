import type { WebSocket } from 'ws';
import { Channel, frame, parseClientMessage } from './channel-protocol';
import { parseTerminalSize, type RemoteCommand } from './remote-command';

// Exec or Attach over a WebSocket (the channel.k8s.io family): every binary message starts with
// a channel byte (0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize). v5 clients half-close stdin
// with [255, 0]; older ones close stdin by closing the socket. When the session ends, the error
// channel says how (a Status JSON on v4 and v5, the failure's text on channel.k8s.io) and the
// socket closes. A socket that closes early aborts the session.

export function serveRemoteCommand(ws: WebSocket, subprotocol: string, command: RemoteCommand, onError: (error: unknown) => void): void {
  const v5 = subprotocol === 'v5.channel.k8s.io';
  const statusJson = v5 || subprotocol === 'v4.channel.k8s.io';
  const send = (channel: Channel, chunk: Buffer): void => {
    if (ws.readyState === ws.OPEN) ws.send(frame(channel, chunk));
  };
  const control = command.start(
    {
      stdout: (chunk) => send(Channel.Stdout, chunk),
      stderr: (chunk) => send(Channel.Stderr, chunk),
      done: (status) => {
        if (ws.readyState !== ws.OPEN) return;
        if (statusJson) ws.send(frame(Channel.Error, JSON.stringify(status)));
        else if (status.status === 'Failure') ws.send(frame(Channel.Error, status.message ?? 'failed'));
        ws.close(1000);
      },
    },
    onError,
  );

  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    const message = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (!isBinary) return;
    const parsed = parseClientMessage(message, v5);
    if (parsed.kind === 'close' && parsed.channel === Channel.Stdin) control.closeStdin();
    if (parsed.kind !== 'data') return;
    if (parsed.channel === Channel.Stdin) control.writeStdin(parsed.data);
    if (parsed.channel === Channel.Resize) {
      const size = parseTerminalSize(parsed.data);
      if (size) control.resize(size);
    }
  });
  ws.on('close', () => control.abort());
}
