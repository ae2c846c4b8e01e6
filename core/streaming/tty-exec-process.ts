import type { IPty } from 'node-pty';
import { exitCodeStatus, failureStatus, type KubeStatus } from './channel-protocol';
import { NO_CONTROL, type StdioControl, type StdioSink, type TerminalSize } from './remote-command';
import { isUsableTerminalSize } from './tty-process-spec';
import { readPidFile } from '../host-programs/pid-file';

// An exec with a TTY. The runtime's exec runs in the foreground (no --detach, no console socket)
// with `terminal: true` in its process file, under a pseudo-terminal of ours (node-pty), as CRI-O
// does: runc then allocates the container's terminal itself and copies between it and its own
// stdio, which is our terminal. So there are two terminals, and:
// - Output (stdout and stderr, merged by the container's terminal) is what we read from ours.
// - Resize sets the size of ours; the kernel sends runc SIGWINCH and runc copies the size to the
//   container's terminal (runc also copies it once when it starts forwarding signals, so a size
//   set before that is not lost).
// - Stdin is held back until runc has written the pid file: runc puts our terminal in raw mode
//   (no echo, no line editing, no signals) just before that, and bytes written earlier would meet
//   a cooked terminal (echoed twice, held until a newline, ^C a signal for runc itself). Output
//   needs no such care: runc leaves \n -> \r\n to our terminal and turns it off on the container's
//   (so a line that races that switch ends in \r\r\n, which a terminal shows the same; CRI-O's
//   exec, built the same way, does likewise).
// - A stdin half-close writes one end-of-file character (^D) to the terminal, as a person at the
//   terminal would: a shell or `cat` reading at the start of a line sees the end of its input and
//   exits, as it would without a TTY. (CRI-O ignores the half-close; containerd hangs the terminal
//   up, which kills a shell before it has run what it was sent.) A program that reads the terminal
//   raw (an editor) just sees the byte.
// - An abort (the client went away) kills the exec'd process and its process group by the pid runc
//   wrote; runc then exits, and is killed itself if it has not within a grace period.
// - The exit code is runc's, which is the command's (128+n when a signal n killed it).

export interface TtyExecLaunch {
  /** For messages: "exec in container <id>". */
  readonly description: string;
  /** The runtime's exec command line, with --pid-file pidFile. */
  readonly argv: readonly string[];
  readonly pidFile: string;
  /** The size the terminal starts with (the process file's consoleSize should say the same). */
  readonly size: TerminalSize;
  /** Whether the client sends stdin and wants the output. */
  readonly stdin: boolean;
  readonly stdout: boolean;
  /** Removes the process and pid files; called once the runtime's exec has exited. */
  cleanUp(): void;
}

/** ASCII EOT, the default VEOF of a terminal: ^D. */
const END_OF_FILE = Buffer.from([0x04]);
/** How often to look for the pid file while runc starts the command. */
const PID_POLL_MS = 20;
/** After an abort, how long to wait for the pid file before killing runc alone. */
const PID_WAIT_AFTER_ABORT_MS = 2_000;
/** After the command is killed, how long runc gets to reap it and exit before it is killed too. */
const REAP_GRACE_MS = 1_000;

export function startTtyExec(launch: TtyExecLaunch, output: StdioSink, onError: (error: unknown) => void): StdioControl {
  const [file, ...args] = launch.argv;
  if (file === undefined) {
    launch.cleanUp();
    output.done(failureStatus(`${launch.description}: the runtime gave an empty exec command line`));
    return NO_CONTROL;
  }
  let terminal: IPty;
  try {
    // encoding null: output arrives as bytes, not decoded (and maybe split) UTF-8.
    // The native addon is loaded on the first TTY exec, not at start-up.
    const { spawn: spawnPty } = require('node-pty') as typeof import('node-pty');
    terminal = spawnPty(file, args, { cols: launch.size.width, rows: launch.size.height, encoding: null });
  } catch (error) {
    launch.cleanUp();
    onError(error);
    output.done(failureStatus(`${launch.description}: cannot run the runtime's exec (${file}) on a terminal: ${error instanceof Error ? error.message : String(error)}`));
    return NO_CONTROL;
  }

  let finished = false;
  let exited = false;
  let aborted = false;
  let stdinClosed = false;
  /** The exec'd process, once runc has written it (and so has put our terminal in raw mode). */
  let pid: number | undefined;
  const pendingStdin: Buffer[] = [];
  let killTimer: NodeJS.Timeout | undefined;

  const finish = (status: KubeStatus): void => {
    if (finished) return;
    finished = true;
    output.done(status);
  };
  const write = (data: Buffer): void => {
    if (!exited) terminal.write(data);
  };

  const onReady = (): void => {
    for (const chunk of pendingStdin.splice(0)) write(chunk);
    if (stdinClosed) write(END_OF_FILE);
    if (aborted && pid !== undefined) killCommand(pid);
  };
  const pidPoll = setInterval(() => {
    pid = readPidFile(launch.pidFile);
    if (pid === undefined) return;
    clearInterval(pidPoll);
    onReady();
  }, PID_POLL_MS);

  /** Kills the command, then runc if it has not exited after the grace period. */
  const killCommand = (target: number): void => {
    killGroupAndProcess(target);
    clearTimeout(killTimer);
    killTimer = setTimeout(killRuntime, REAP_GRACE_MS);
  };
  const killRuntime = (): void => {
    if (!exited) terminal.kill('SIGKILL');
  };

  // Typed as strings; with encoding null node-pty hands over Buffers.
  terminal.onData((data: string | Buffer) => {
    if (aborted || finished || !launch.stdout) return;
    if (output.stdout(Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8'))) return;
    // The client is behind: stop reading the terminal (the command blocks on it) until it catches up.
    terminal.pause();
    output.whenDrained(() => terminal.resume());
  });
  // node-pty reports the exit once our side of the terminal has been read to its end and closed.
  terminal.onExit(({ exitCode, signal }) => {
    exited = true;
    clearInterval(pidPoll);
    clearTimeout(killTimer);
    launch.cleanUp();
    finish(exitCodeStatus(signal ? 128 + signal : exitCode));
  });

  return {
    // Typing is slow and node-pty's write has no backpressure: input is taken as it comes.
    writeStdin: (data) => {
      if (!launch.stdin || stdinClosed || exited) return true;
      if (pid === undefined) pendingStdin.push(Buffer.from(data));
      else write(data);
      return true;
    },
    whenStdinDrained: (resume) => resume(),
    closeStdin: () => {
      if (!launch.stdin || stdinClosed) return;
      stdinClosed = true;
      if (pid !== undefined) write(END_OF_FILE);
    },
    resize: (size) => {
      if (exited || !isUsableTerminalSize(size)) return;
      try {
        terminal.resize(size.width, size.height);
      } catch (error) {
        // The terminal closed under us (runc just exited): nothing left to resize.
        if (!exited) onError(error);
      }
    },
    abort: () => {
      if (aborted || exited) return;
      aborted = true;
      pendingStdin.length = 0;
      if (pid !== undefined) killCommand(pid);
      // Killing runc before it has started the command could leave the command running; wait
      // for the pid (onReady kills it), and kill runc alone only if it never comes.
      else killTimer = setTimeout(killRuntime, PID_WAIT_AFTER_ABORT_MS);
    },
  };
}

/**
 * SIGKILLs the exec'd process and, as it leads its own session and process group on its terminal,
 * that group (a foreground job of a shell gets SIGHUP from the kernel when the shell dies). While
 * runc runs it has not reaped the process, so the pid cannot name anything else.
 */
function killGroupAndProcess(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // No such group, or already gone.
    }
  }
}
