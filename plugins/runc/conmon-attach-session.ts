import type { AttachSession, AttachSessionEvents, TerminalSize } from '../../core/plugin-api';
import { parseAttachPacket, resizeControlLine, stdinPackets, type ConmonAttachEndpoints } from './conmon-attach-protocol';
import { connectAttachSocket } from './conmon-attach-socket';
import { ControlFifo } from './conmon-control-fifo';

// RuncRuntime.attach: core's protocol-neutral AttachSession over conmon's attach socket (output
// and stdin packets) and control FIFO (resizes). The socket connects asynchronously and the addon
// loses packets written before it is connected, so input (and a half-close) that comes earlier is
// held here and sent on connect.

/**
 * Connects to conmon's attach socket for one container. Throws when the socket cannot be reached
 * (no such file, conmon gone: the container exited).
 */
export function openConmonAttachSession(endpoints: ConmonAttachEndpoints, events: AttachSessionEvents): AttachSession {
  const control = new ControlFifo(endpoints.controlFifo);
  let connected = false;
  let closed = false;
  const held: { readonly data: Buffer; readonly written: () => void }[] = [];
  let heldShutdown: (() => void) | undefined;

  const send = (data: Buffer, written: () => void): void => {
    const packets = stdinPackets(data);
    if (packets.length === 0) return written();
    let left = packets.length;
    for (const packet of packets) {
      socket.write(packet, () => {
        left -= 1;
        if (left === 0) written();
      });
    }
  };

  const socket = connectAttachSocket(endpoints.socket, {
    onConnect: () => {
      if (closed) return;
      connected = true;
      for (const { data, written } of held.splice(0)) send(data, written);
      if (heldShutdown) socket.shutdownWrite(heldShutdown);
    },
    onPacket: (packet) => {
      const output = parseAttachPacket(packet);
      // A pipe byte conmon does not send to clients (stdin's) carries nothing to show.
      if (output.stream !== 'unknown') events.output(output.stream, output.data);
    },
    onEnd: () => events.end(),
    onError: (error) => events.error(error),
  });

  return {
    peer: `conmon (${endpoints.socket})`,
    writeStdin: (data, written) => {
      if (closed) return written();
      // Copied: the caller may reuse its buffer before the connection is up.
      if (!connected) held.push({ data: Buffer.from(data), written });
      else send(data, written);
    },
    closeStdin: (then) => {
      if (closed) return then();
      if (!connected) heldShutdown = then;
      else socket.shutdownWrite(then);
    },
    resize: (size: TerminalSize) => control.write(resizeControlLine(size)),
    close: () => {
      if (closed) return;
      closed = true;
      control.close();
      socket.destroy();
      for (const { written } of held.splice(0)) written();
    },
  };
}
