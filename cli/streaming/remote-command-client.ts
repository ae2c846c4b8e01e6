import type { Readable, Writable } from 'node:stream';
import type WebSocket from 'ws';
import { channelFrame, closeChannelFrame, ERROR, outcomeOf, REMOTE_COMMAND_SUBPROTOCOLS, resizeFrame, STDERR, STDIN, STDOUT, type RemoteOutcome } from './channel-frames';
import { openChannelSocket } from './open-channel-socket';
import type { TerminalSizeSource } from './raw-terminal';

// The client of an exec or attach URL over WebSocket (v5.channel.k8s.io, v4 as the fallback):
// local stdin goes out on channel 0, channels 1 and 2 come back to stdout and stderr, a terminal's
// size goes on channel 4, and at the end channel 3 says how the command ended. At stdin's end a
// v5 session half-closes channel 0 ([255, 0]) so the remote command sees EOF; v4 has no such
// message (kubectl's v4 keeps stdin open too), so there the command must end by itself.

export interface RemoteCommandIo {
  /** Given when the session was asked for stdin. */
  readonly stdin?: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** Given for a TTY session on a local terminal: its size now and on every change. */
  readonly terminal?: TerminalSizeSource;
  /** Ends the session (the server then kills an exec, or detaches an attach) after this long; 0 or absent: never. */
  readonly timeoutMs?: number;
}

/** Unsent stdin past which the client stops reading it until the socket catches up. */
const STDIN_HIGH_WATER = 1024 * 1024;

/** Runs the session at `url`; resolves with the outcome once the server closes the socket. */
export async function runRemoteCommand(url: string, what: string, io: RemoteCommandIo): Promise<RemoteOutcome> {
  const errorChannel: Buffer[] = [];
  let ws: WebSocket | undefined;
  const onMessage = (message: Buffer): void => {
    const payload = message.subarray(1);
    if (message[0] === STDOUT) write(ws, io.stdout, payload);
    else if (message[0] === STDERR) write(ws, io.stderr, payload);
    else if (message[0] === ERROR) errorChannel.push(payload);
  };
  const socket = await openChannelSocket(url, REMOTE_COMMAND_SUBPROTOCOLS, what, onMessage);
  ws = socket;
  const v5 = socket.protocol === 'v5.channel.k8s.io';
  const cleanups: (() => void)[] = [];
  return new Promise<RemoteOutcome>((resolve, reject) => {
    let failure: Error | undefined;
    socket.on('error', (error) => (failure = error));
    const timeoutMs = io.timeoutMs ?? 0;
    let timedOut = false;
    if (timeoutMs > 0) {
      const timer = setTimeout(() => {
        timedOut = true;
        socket.terminate();
      }, timeoutMs);
      cleanups.push(() => clearTimeout(timer));
    }
    socket.on('close', (code, reason) => {
      for (const cleanup of cleanups.splice(0)) cleanup();
      const text = Buffer.concat(errorChannel).toString();
      if (timedOut) {
        reject(new Error(`the ${what} timed out after ${timeoutMs / 1000} s and was closed`));
        return;
      }
      if (text !== '' || code === 1000) {
        resolve(outcomeOf(text));
        return;
      }
      const why = failure?.message ?? (reason.length > 0 ? reason.toString() : `close code ${code}`);
      reject(new Error(`the ${what} ended before the server said how the command ended: ${why}`));
    });

    if (io.terminal) {
      const now = io.terminal.size();
      if (now) socket.send(resizeFrame(now));
      cleanups.push(io.terminal.onResize((size) => socket.readyState === socket.OPEN && socket.send(resizeFrame(size))));
    }
    if (io.stdin) cleanups.push(pumpStdin(socket, io.stdin, v5));
  });
}

/** Writes output, pausing the socket (once it is known) while the local side is behind. */
function write(ws: WebSocket | undefined, output: Writable, data: Buffer): void {
  if (data.length === 0) return;
  if (!output.write(data) && ws && !ws.isPaused) {
    ws.pause();
    output.once('drain', () => ws.resume());
  }
}

/** Sends stdin on channel 0 and its end as a v5 half-close; returns what stops reading it. */
function pumpStdin(ws: WebSocket, stdin: Readable, v5: boolean): () => void {
  const onData = (chunk: Buffer | string): void => {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(channelFrame(STDIN, chunk), () => {
      if (stdin.isPaused() && ws.bufferedAmount < STDIN_HIGH_WATER) stdin.resume();
    });
    if (ws.bufferedAmount >= STDIN_HIGH_WATER) stdin.pause();
  };
  const onEnd = (): void => {
    if (v5 && ws.readyState === ws.OPEN) ws.send(closeChannelFrame(STDIN));
  };
  const onError = (): void => onEnd();
  stdin.on('data', onData);
  stdin.once('end', onEnd);
  stdin.once('error', onError);
  return () => {
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    stdin.off('error', onError);
    stdin.pause();
  };
}
