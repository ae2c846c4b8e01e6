import type * as net from 'node:net';
import type WebSocket from 'ws';
import { channelFrame, PORT_FORWARD_SUBPROTOCOLS } from './channel-frames';
import { openChannelSocket } from './open-channel-socket';

// One local connection forwarded over one WebSocket port-forward session (the kubelet's v4
// channel protocol): for the one port asked for in the URL (`?port=N`), channel 0 carries data
// both ways and channel 1 the server's error text; the first bytes the server sends on each are
// the port (2 bytes, little-endian), which are checked off and dropped. The protocol has no
// half-close: when the local client stops sending, the session goes on until the pod's side
// closes; when the local connection closes, so does the session.

const DATA = 0;
const ERROR = 1;
const PORT_PREFIX_BYTES = 2;
/** Unsent local data past which the local connection is paused until the socket catches up. */
const HIGH_WATER = 1024 * 1024;

/** The URL with `port` set to the one remote port this session forwards. */
export function portForwardUrl(url: string, remotePort: number): string {
  const parsed = new URL(url);
  parsed.searchParams.set('port', String(remotePort));
  return parsed.toString();
}

/**
 * Forwards `local` to `remotePort` over the session at `url`; resolves when both are closed, or
 * rejects (with the local connection destroyed) when the session cannot open or the server
 * reports an error for the port.
 */
export async function forwardConnection(local: net.Socket, url: string, remotePort: number): Promise<void> {
  // How many port-prefix bytes are still to come on each channel.
  const prefixLeft = new Map<number, number>([
    [DATA, PORT_PREFIX_BYTES],
    [ERROR, PORT_PREFIX_BYTES],
  ]);
  const errorText: Buffer[] = [];
  let ws: WebSocket | undefined;
  const onMessage = (message: Buffer): void => {
    const channel = message[0];
    if (channel !== DATA && channel !== ERROR) return;
    const skip = Math.min(prefixLeft.get(channel) ?? 0, message.length - 1);
    prefixLeft.set(channel, (prefixLeft.get(channel) ?? 0) - skip);
    const payload = message.subarray(1 + skip);
    if (payload.length === 0) return;
    if (channel === ERROR) {
      errorText.push(payload);
      return;
    }
    if (!local.write(payload) && ws && !ws.isPaused) {
      const paused = ws;
      paused.pause();
      local.once('drain', () => paused.resume());
    }
  };
  try {
    ws = await openChannelSocket(portForwardUrl(url, remotePort), PORT_FORWARD_SUBPROTOCOLS, `port-forward session for port ${remotePort}`, onMessage);
  } catch (error) {
    local.destroy();
    throw error;
  }
  const socket = ws;
  if (local.destroyed) {
    socket.close(1000);
    return;
  }
  return new Promise((resolve, reject) => {
    let socketError: Error | undefined;
    socket.on('error', (error) => (socketError = error));
    socket.on('close', (code, reason) => {
      const text = Buffer.concat(errorText).toString().trim();
      if (text !== '') {
        local.destroy();
        reject(new Error(text));
        return;
      }
      if (code !== 1000 && code !== 1005 && !local.destroyed) {
        local.destroy();
        reject(new Error(`the port-forward session for port ${remotePort} ended abnormally: ${socketError?.message ?? (reason.length > 0 ? reason.toString() : `close code ${code}`)}`));
        return;
      }
      local.end();
      resolve();
    });

    local.on('data', (chunk: Buffer) => {
      if (socket.readyState !== socket.OPEN) return;
      socket.send(channelFrame(DATA, chunk), () => {
        if (local.isPaused() && socket.bufferedAmount < HIGH_WATER) local.resume();
      });
      if (socket.bufferedAmount >= HIGH_WATER) local.pause();
    });
    // The local client's errors (a reset) end in `close`, which ends the session.
    local.on('error', () => undefined);
    local.on('close', () => {
      if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) socket.close(1000);
    });
    // Nothing was read from the local connection before the session opened, so no byte is lost.
    local.resume();
  });
}
