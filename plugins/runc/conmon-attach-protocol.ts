import type { TerminalSize } from '../../core/plugin-api';

// What conmon (2.x, started with --full-attach) offers an attaching client, as pure functions:
// - `<bundle>/attach`, an AF_UNIX SOCK_SEQPACKET socket. Every packet conmon sends is one read of
//   the container's output, prefixed with one byte naming the pipe (conmon's stdpipe_t: 2 stdout,
//   3 stderr; a TTY's single stream comes as stdout). Every packet a client sends is written to
//   the container's stdin as is. A client's shutdown(SHUT_WR) (or its going away) makes conmon
//   close the container's stdin, unless conmon runs with --leave-stdin-open. When conmon exits
//   (the container exited and its output is drained), the socket reads EOF.
// - `<bundle>/ctl`, a FIFO of "<type> <height> <width>\n" lines: type 1 resizes the terminal,
//   type 2 reopens the log.
// Where both are: conmonAttachEndpoints in conmon.ts. The session core sees (OciRuntime.attach)
// is conmon-attach-session.ts; core knows none of this.

/** conmon's attach socket and control FIFO for one container. */
export interface ConmonAttachEndpoints {
  /** AF_UNIX SOCK_SEQPACKET: output packets start with the pipe byte, input packets go to stdin. */
  readonly socket: string;
  /** FIFO taking "<type> <height> <width>\n" lines (1: resize the terminal, 2: reopen the log). */
  readonly controlFifo: string;
}

/** conmon's stdpipe_t values, as the first byte of each attach packet. */
export const ATTACH_PIPE_STDOUT = 2;
export const ATTACH_PIPE_STDERR = 3;

/** conmon reads at most CONN_SOCK_BUF_SIZE - 1 bytes of one packet; a longer one would be cut. */
export const ATTACH_STDIN_PACKET_MAX = 32_768 - 1;

/** conmon refuses window sizes above this (process_terminal_ctrl_line). */
export const CONMON_MAX_WINDOW_DIMENSION = 1000;

const WIN_RESIZE_EVENT = 1;

export type AttachOutput = { readonly stream: 'stdout' | 'stderr'; readonly data: Buffer } | { readonly stream: 'unknown'; readonly pipe: number | undefined };

/** Splits one packet from conmon into the stream it belongs to and its bytes. */
export function parseAttachPacket(packet: Buffer): AttachOutput {
  const pipe = packet[0];
  if (pipe === ATTACH_PIPE_STDOUT) return { stream: 'stdout', data: packet.subarray(1) };
  if (pipe === ATTACH_PIPE_STDERR) return { stream: 'stderr', data: packet.subarray(1) };
  return { stream: 'unknown', pipe };
}

/** Cuts client input into packets conmon reads whole. */
export function stdinPackets(data: Buffer, max = ATTACH_STDIN_PACKET_MAX): Buffer[] {
  const packets: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += max) packets.push(data.subarray(offset, offset + max));
  return packets;
}

/**
 * The ctl line that resizes the container's terminal. Dimensions beyond what conmon accepts are
 * clamped: conmon would drop the whole line, leaving the terminal at its old size.
 */
export function resizeControlLine(size: TerminalSize): string {
  const clamp = (n: number): number => Math.min(Math.max(0, Math.trunc(n)), CONMON_MAX_WINDOW_DIMENSION);
  return `${WIN_RESIZE_EVENT} ${clamp(size.height)} ${clamp(size.width)}\n`;
}
