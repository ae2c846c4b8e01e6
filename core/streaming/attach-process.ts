import type { ContainerRecord } from '../containers/container-record';
import { describeError } from '../errors';
import { failureStatus, successStatus, type KubeStatus } from './channel-protocol';
import { connectAttachSocket, type AttachSocket } from './conmon-attach-socket';
import type { AttachEndpoints } from '../runtime/runtime-registry';
import { parseAttachPacket, resizeControlLine, stdinPackets } from './conmon-attach-protocol';
import { ControlFifo } from './conmon-control-fifo';
import { NO_CONTROL, type RemoteCommand, type StdioControl, type StdioSink } from './remote-command';

// One attach (the Attach RPC's session, started when the client opens the streaming URL): a
// connection to the attach socket of the container's conmon. Output packets go to the sink (the
// streams the client asked for; the rest is read and dropped), client input goes to the
// container's stdin, window sizes to conmon's control FIFO. The session ends like the kubelet's
// own attach: Success when conmon closes the socket (the container exited; its exit code is
// ContainerStatus's business, not the attach's), and a plain detach when the client goes away,
// the container running on. As in CRI-O, when the container keeps stdin open across sessions
// (stdin without stdin_once, no TTY), the client closing stdin ends the session too: the
// container never sees that EOF, so there is nothing more to wait for.

/** Stdin bytes on their way to conmon beyond which the client is asked to wait. */
const STDIN_HIGH_WATER_BYTES = 1024 * 1024;

export interface AttachTarget {
  readonly record: ContainerRecord;
  /** The runtime's attach socket and control FIFO for this container. */
  readonly endpoints: AttachEndpoints;
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

/** Connects to the container's conmon and relays until one side ends. */
export function startAttach(target: AttachTarget, sink: StdioSink, onError: (error: unknown) => void): StdioControl {
  const { record } = target;
  const socketPath = target.endpoints.socket;
  const control = new ControlFifo(target.endpoints.controlFifo);
  const stdinStaysOpen = record.config.stdin && !record.config.stdin_once && !record.config.tty;
  let socket: AttachSocket | undefined;
  let connected = false;
  let finished = false;
  let stdinClosed = false;
  let resizeFailed = false;
  /** Input (and a half-close) that arrived before the connection was up. */
  const pending: Buffer[] = [];
  /** Stdin bytes handed to the socket and not yet with the kernel; past the high water the client waits. */
  let stdinInFlight = 0;
  const stdinWaiting: (() => void)[] = [];
  const sendStdin = (data: Buffer): void => {
    for (const packet of stdinPackets(data)) {
      stdinInFlight += packet.length;
      socket?.write(packet, () => {
        stdinInFlight -= packet.length;
        if (stdinInFlight < STDIN_HIGH_WATER_BYTES) for (const resume of stdinWaiting.splice(0)) resume();
      });
    }
  };

  const finish = (status: KubeStatus): void => {
    if (finished) return;
    finished = true;
    for (const resume of stdinWaiting.splice(0)) resume();
    control.close();
    socket?.destroy();
    sink.done(status);
  };
  const closeWriteSide = (): void => {
    // Once conmon has read the half-close it closes the container's stdin (stdin_once), or not
    // (stdin kept open): then this session has nothing left to do.
    socket?.shutdownWrite(() => {
      if (stdinStaysOpen) finish(successStatus());
    });
  };

  try {
    socket = connectAttachSocket(socketPath, {
      onConnect: () => {
        connected = true;
        for (const data of pending.splice(0)) sendStdin(data);
        if (stdinClosed) closeWriteSide();
      },
      onPacket: (packet) => {
        if (finished) return;
        const output = parseAttachPacket(packet);
        if (output.stream === 'stdout' && target.stdout) sink.stdout(output.data);
        else if (output.stream === 'stderr' && target.stderr) sink.stderr(output.data);
      },
      onEnd: () => finish(successStatus()),
      onError: (error) => {
        if (finished) return;
        onError(error);
        finish(failureStatus(`attach to container ${record.id} lost its connection to conmon (${socketPath}): ${error.message}`));
      },
    });
  } catch (error) {
    finish(failureStatus(`cannot attach to container ${record.id}: ${describeError(error)} (has the container exited?)`));
    return NO_CONTROL;
  }

  return {
    writeStdin: (data) => {
      if (!target.stdin || stdinClosed || finished) return true;
      if (!connected) pending.push(Buffer.from(data));
      else sendStdin(data);
      return stdinInFlight + pending.reduce((sum, chunk) => sum + chunk.length, 0) < STDIN_HIGH_WATER_BYTES;
    },
    whenStdinDrained: (resume) => {
      if (finished || stdinInFlight < STDIN_HIGH_WATER_BYTES) return resume();
      stdinWaiting.push(resume);
    },
    closeStdin: () => {
      if (!target.stdin || stdinClosed || finished) return;
      stdinClosed = true;
      if (connected) closeWriteSide();
    },
    resize: (size) => {
      if (!target.tty || finished) return;
      try {
        control.write(resizeControlLine(size));
      } catch (error) {
        // The session goes on at the old size; say so once, not on every resize.
        if (!resizeFailed) onError(new Error(`cannot resize the terminal of container ${record.id}: ${describeError(error)}`));
        resizeFailed = true;
      }
    },
    abort: () => finish(successStatus()),
  };
}
