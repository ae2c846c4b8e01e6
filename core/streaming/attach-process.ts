import type { ContainerRecord } from '../containers/container-record';
import { describeError } from '../errors';
import type { AttachSession, AttachSessionEvents } from '../runtime/attach-session';
import { failureStatus, successStatus, type KubeStatus } from './channel-protocol';
import { NO_CONTROL, type RemoteCommand, type StdioControl, type StdioSink } from './remote-command';

// One attach (the Attach RPC's session, started when the client opens the streaming URL): an
// attach session to the container's stdio, opened through its runtime (for runc, a connection to
// conmon). Output goes to the sink (the streams the client asked for; the rest is read and
// dropped), client input goes to the container's stdin, window sizes to its terminal. The session
// ends like the kubelet's own attach: Success when the runtime's side closes (the container
// exited; its exit code is ContainerStatus's business, not the attach's), and a plain detach when
// the client goes away, the container running on. As in CRI-O, when the container keeps stdin
// open across sessions (stdin without stdin_once, no TTY), the client closing stdin ends the
// session too: the container never sees that EOF, so there is nothing more to wait for.

/** Stdin bytes on their way to the container beyond which the client is asked to wait. */
const STDIN_HIGH_WATER_BYTES = 1024 * 1024;

export interface AttachTarget {
  readonly record: ContainerRecord;
  /** Opens the runtime's attach session to this container (OciRuntime.attach); throws when it cannot. */
  readonly open: (events: AttachSessionEvents) => AttachSession;
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
}

/** The attach to `target` as a session the streaming transports can serve. */
export function attachCommand(target: AttachTarget): RemoteCommand {
  return {
    description: `attach to container ${target.record.id}`,
    stdin: target.stdin,
    stdout: target.stdout,
    stderr: target.stderr,
    tty: target.tty,
    start: (sink, onError) => startAttach(target, sink, onError),
  };
}

/** Opens the runtime's attach session and relays until one side ends. */
export function startAttach(target: AttachTarget, sink: StdioSink, onError: (error: unknown) => void): StdioControl {
  const { record } = target;
  const stdinStaysOpen = record.config.stdin && !record.config.stdin_once && !record.config.tty;
  let session: AttachSession | undefined;
  let finished = false;
  let stdinClosed = false;
  let resizeFailed = false;
  /**
   * Stdin bytes handed to the session and not yet out of the daemon (held ones too, written
   * before the session was connected); past the high water the client waits.
   */
  let stdinInFlight = 0;
  const stdinWaiting: (() => void)[] = [];
  const sendStdin = (data: Buffer): void => {
    if (data.length === 0) return;
    stdinInFlight += data.length;
    session?.writeStdin(data, () => {
      stdinInFlight -= data.length;
      if (stdinInFlight < STDIN_HIGH_WATER_BYTES) for (const resume of stdinWaiting.splice(0)) resume();
    });
  };

  const finish = (status: KubeStatus): void => {
    if (finished) return;
    finished = true;
    for (const resume of stdinWaiting.splice(0)) resume();
    session?.close();
    sink.done(status);
  };

  try {
    session = target.open({
      output: (stream, data) => {
        if (finished) return;
        if (stream === 'stdout' && target.stdout) sink.stdout(data);
        else if (stream === 'stderr' && target.stderr) sink.stderr(data);
      },
      end: () => finish(successStatus()),
      error: (error) => {
        if (finished) return;
        onError(error);
        finish(failureStatus(`attach to container ${record.id} lost its connection to ${session?.peer ?? 'its runtime'}: ${error.message}`));
      },
    });
  } catch (error) {
    finish(failureStatus(`cannot attach to container ${record.id}: ${describeError(error)} (has the container exited?)`));
    return NO_CONTROL;
  }

  return {
    writeStdin: (data) => {
      if (!target.stdin || stdinClosed || finished) return true;
      sendStdin(data);
      return stdinInFlight < STDIN_HIGH_WATER_BYTES;
    },
    whenStdinDrained: (resume) => {
      if (finished || stdinInFlight < STDIN_HIGH_WATER_BYTES) return resume();
      stdinWaiting.push(resume);
    },
    closeStdin: () => {
      if (!target.stdin || stdinClosed || finished) return;
      stdinClosed = true;
      // Once the runtime has passed the half-close on, the container's stdin is closed
      // (stdin_once), or not (stdin kept open): then this session has nothing left to do.
      session?.closeStdin(() => {
        if (stdinStaysOpen) finish(successStatus());
      });
    },
    resize: (size) => {
      if (!target.tty || finished) return;
      try {
        session?.resize(size);
      } catch (error) {
        // The session goes on at the old size; say so once, not on every resize.
        if (!resizeFailed) onError(new Error(`cannot resize the terminal of container ${record.id}: ${describeError(error)}`));
        resizeFailed = true;
      }
    },
    abort: () => finish(successStatus()),
  };
}
