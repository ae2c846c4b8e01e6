import type { TerminalSize } from '../streaming/remote-command';

// A connection to a running container's stdio, as a runtime's supervisor offers it
// (OciRuntime.attach). Protocol-neutral on purpose: how output is framed, where the socket is and
// how a resize reaches the terminal are the runtime's business (the runc plugin speaks conmon's
// attach socket and control FIFO). core/streaming/attach-process.ts builds the Attach RPC's
// session on top: which streams the client gets, flow control, when the session ends.

/** The stream an output chunk came from; a TTY's single stream comes as stdout. */
export type AttachStream = 'stdout' | 'stderr';

/** What the session reports; none of these runs synchronously inside `OciRuntime.attach`. */
export interface AttachSessionEvents {
  /** One chunk of the container's output. */
  output(stream: AttachStream, data: Buffer): void;
  /** The supervisor closed its side: the container exited and its output is drained. */
  end(): void;
  /** The connection failed; the session is over. */
  error(error: Error): void;
}

export interface AttachSession {
  /** What the session is connected to, for messages (for example "conmon (<bundle>/attach)"). */
  readonly peer: string;
  /**
   * Sends `data` to the container's stdin. Writes made before the connection is up are held and
   * sent once it is. `written` runs once the bytes have left the daemon (or could not be sent),
   * which is what the caller's flow control waits for.
   */
  writeStdin(data: Buffer, written: () => void): void;
  /** Half-closes stdin once written data is out; `then` runs after (the supervisor has seen it). */
  closeStdin(then: () => void): void;
  /** Resizes the container's terminal; throws with the cause when the supervisor cannot be told. */
  resize(size: TerminalSize): void;
  /** Ends the connection (a detach: the container runs on); safe to call twice. */
  close(): void;
}
