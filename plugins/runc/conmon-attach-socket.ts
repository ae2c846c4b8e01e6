import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SeqpacketSocket as SeqpacketSocketType } from 'node-unix-socket';
import { describeError } from '../../core/plugin-api';

// A client connection to conmon's attach socket (SOCK_SEQPACKET, which Node's net module cannot
// open, hence node-unix-socket). Thin: it connects, hands over whole packets, and says when the
// other side ended. What the packets mean lives in conmon-attach-protocol.ts.

export interface AttachSocketHandlers {
  /** Connected: packets may be written from now on (the addon loses writes made before). */
  onConnect(): void;
  onPacket(packet: Buffer): void;
  /** conmon closed its side: it exited, after the container did. */
  onEnd(): void;
  onError(error: Error): void;
}

export interface AttachSocket {
  /** `written` runs once the packet is with the kernel (or could not be sent). */
  write(packet: Buffer, written?: () => void): void;
  /** shutdown(SHUT_WR) once queued packets are out; `then` runs after. */
  shutdownWrite(then?: () => void): void;
  destroy(): void;
}

/**
 * Connects to the socket at `socketPath`. A bundle path is usually longer than the 108 bytes a
 * socket address holds, so the directory is opened and named through /proc/self/fd (as conmon
 * itself binds it). Throws when the socket cannot be reached (no such file, conmon gone).
 */
export function connectAttachSocket(socketPath: string, handlers: AttachSocketHandlers): AttachSocket {
  // The native addon is loaded on the first Attach, not at start-up.
  const { SeqpacketSocket } = require('node-unix-socket') as typeof import('node-unix-socket');
  const socket: SeqpacketSocketType = new SeqpacketSocket();
  let ended = false;
  socket.on('connect', () => handlers.onConnect());
  socket.on('data', (packet: Buffer) => handlers.onPacket(packet));
  socket.on('end', () => {
    if (ended) return;
    ended = true;
    handlers.onEnd();
  });
  socket.on('error', (error: Error) => handlers.onError(error));

  let dir: number;
  try {
    dir = fs.openSync(path.dirname(socketPath), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  } catch (error) {
    socket.destroy();
    throw new Error(`cannot open the directory of the attach socket ${socketPath}: ${describeError(error)}`, { cause: error });
  }
  try {
    // connect(2) on a unix socket resolves the path at once, so the directory may close after.
    socket.connect(`/proc/self/fd/${dir}/${path.basename(socketPath)}`);
  } catch (error) {
    socket.destroy();
    throw new Error(`cannot connect to the attach socket ${socketPath}: ${describeError(error)}`, { cause: error });
  } finally {
    fs.closeSync(dir);
  }

  let destroyed = false;
  let writeShut = false;
  return {
    write: (packet, written) => {
      // The addon throws on a write after shutdown or destroy; such input has nowhere to go.
      if (destroyed || writeShut) return written?.();
      socket.write(packet, undefined, undefined, () => written?.());
    },
    shutdownWrite: (then) => {
      if (destroyed || writeShut) {
        then?.();
        return;
      }
      writeShut = true;
      socket.end(then);
    },
    destroy: () => {
      if (destroyed) return;
      destroyed = true;
      socket.destroy();
    },
  };
}
