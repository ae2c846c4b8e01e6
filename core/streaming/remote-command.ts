import type { KubeStatus } from './channel-protocol';

// What Exec and Attach have in common, whatever the transport (WebSocket or SPDY): the client
// asked for some of stdin/stdout/stderr and maybe a TTY; the server starts something that writes
// output to a sink and accepts stdin, a half-close, window sizes and an abort. The transports
// (ws-remote-command.ts, spdy-remote-command.ts) only frame bytes; exec-process.ts and
// attach-process.ts are the two things they can start.
//
// Both directions have flow control, as Node streams do: a `false` answer means "the other side
// is behind: stop until the callback", so a client sending faster than the command reads (or a
// command writing faster than the client reads) does not pile its bytes up in the daemon.

/** Columns and rows, as the resize stream/channel carries them ({"Width":…,"Height":…}). */
export interface TerminalSize {
  readonly width: number;
  readonly height: number;
}

/** Where output and the end go. */
export interface StdioSink {
  /** False when the client is behind: the source pauses until `whenDrained` calls back. */
  stdout(chunk: Buffer): boolean;
  stderr(chunk: Buffer): boolean;
  /** Calls `resume` once the client has caught up (at once if it is not behind). */
  whenDrained(resume: () => void): void;
  /** Called once: the command ended (or detached) and its output drained, or it could not start. */
  done(status: KubeStatus): void;
}

/** What the transport may do to a running session. */
export interface StdioControl {
  /** False when the command's stdin is full: the transport stops reading until `whenStdinDrained` calls back. */
  writeStdin(data: Buffer): boolean;
  /** Calls `resume` once the command has taken in what was written (at once if nothing waits). */
  whenStdinDrained(resume: () => void): void;
  closeStdin(): void;
  /** A new terminal size from the client; ignored without a TTY. */
  resize(size: TerminalSize): void;
  /** The client went away: an exec is killed, an attach just detaches. */
  abort(): void;
}

export const NO_CONTROL: StdioControl = {
  writeStdin: () => true,
  whenStdinDrained: (resume) => resume(),
  closeStdin: () => undefined,
  resize: () => undefined,
  abort: () => undefined,
};

/** A session a transport can serve: which streams the client opens, and how to start it. */
export interface RemoteCommand {
  /** For messages: "exec in container <id>" or "attach to container <id>". */
  readonly description: string;
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
  start(sink: StdioSink, onError: (error: unknown) => void): StdioControl;
}

/**
 * Parses a resize message (the JSON kubectl's TerminalSizeQueue writes: {"Width":80,"Height":24}).
 * Returns undefined for anything else, which callers ignore as the kubelet does.
 */
export function parseTerminalSize(data: Buffer | string): TerminalSize | undefined {
  let value: unknown;
  try {
    value = JSON.parse(data.toString());
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { Width: width, Height: height } = value as { Width?: unknown; Height?: unknown };
  if (!isDimension(width) || !isDimension(height)) return undefined;
  return { width, height };
}

function isDimension(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffff;
}
