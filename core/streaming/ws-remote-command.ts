import type { WebSocket } from 'ws';
import { carriesStatusJson, Channel, channelCodec } from './channel-protocol';
import { parseTerminalSize, type RemoteCommand } from './remote-command';
import { WebSocketSender } from './ws-sender';

// Exec or Attach over a WebSocket (the channel.k8s.io family): every message carries a channel
// (0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize), as a leading byte in binary messages or, on
// the base64 subprotocols, as a leading digit in text messages whose rest is base64. v5 clients
// half-close stdin with [255, 0]; older ones close stdin by closing the socket. When the session
// ends, the error channel says how (a Status JSON on v4 and v5, the failure's text on the
// unversioned protocols) and the socket closes. A socket that closes early aborts the session.
// As the kubelet does, an empty message on the lowest channel the client reads (stdout, else
// stderr, else error) says the session is established, before any output.

export function serveRemoteCommand(ws: WebSocket, subprotocol: string, command: RemoteCommand, onError: (error: unknown) => void): void {
  const codec = channelCodec(subprotocol);
  const statusJson = carriesStatusJson(subprotocol);
  const sender = new WebSocketSender(ws);
  const send = (channel: Channel, chunk: Buffer | string): boolean => sender.send(codec.encode(channel, chunk));
  send(command.stdout ? Channel.Stdout : command.stderr ? Channel.Stderr : Channel.Error, Buffer.alloc(0));
  const control = command.start(
    {
      stdout: (chunk) => send(Channel.Stdout, chunk),
      stderr: (chunk) => send(Channel.Stderr, chunk),
      whenDrained: (resume) => sender.whenDrained(resume),
      done: (status) => {
        if (ws.readyState !== ws.OPEN) return;
        if (statusJson) send(Channel.Error, JSON.stringify(status));
        else if (status.status === 'Failure') send(Channel.Error, status.message ?? 'failed');
        ws.close(1000);
      },
    },
    onError,
  );

  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    // The binary protocols take binary messages only; base64 frames are read whatever the
    // opcode, as wsstream reads them.
    if (!isBinary && !codec.base64) return;
    const message = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    const parsed = codec.decode(message);
    if (parsed.kind === 'close' && parsed.channel === Channel.Stdin) control.closeStdin();
    if (parsed.kind !== 'data') return;
    // A command that reads slower than the client sends: stop reading the socket until it catches up.
    if (parsed.channel === Channel.Stdin && !control.writeStdin(parsed.data)) {
      ws.pause();
      control.whenStdinDrained(() => ws.resume());
    }
    if (parsed.channel === Channel.Resize) {
      const size = parseTerminalSize(parsed.data);
      if (size) control.resize(size);
    }
  });
  ws.on('close', () => control.abort());
}
