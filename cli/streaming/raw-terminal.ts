import type { ReadStream, WriteStream } from 'node:tty';
import type { TerminalSize } from './channel-frames';

// The local terminal of `exec -t` and `attach -t`: raw mode while the session runs (every key,
// Ctrl-C included, goes to the remote terminal), its size, and its SIGWINCH changes. Raw mode is
// undone on every way out: the returned restore (called in a finally), process exit, and the
// signals that end the client while the terminal is raw (Ctrl-C is no signal then, but a kill,
// a closed terminal or Ctrl-\ from another shell still are).

const ENDING_SIGNALS = ['SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;

/** Puts `stdin` in raw mode; the function it returns restores it and is safe to call twice. */
export function enterRawMode(stdin: ReadStream): () => void {
  if (!stdin.isTTY) return () => undefined;
  const wasRaw = stdin.isRaw;
  stdin.setRawMode(true);
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    process.off('exit', restore);
    for (const signal of ENDING_SIGNALS) process.off(signal, onSignal);
    try {
      stdin.setRawMode(wasRaw);
    } catch {
      // The terminal is gone (hang-up): nothing left to restore.
    }
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    restore();
    // With our handler gone, the default action ends the process as the signal would have.
    process.kill(process.pid, signal);
  };
  process.on('exit', restore);
  for (const signal of ENDING_SIGNALS) process.on(signal, onSignal);
  return restore;
}

/** The terminal's size and its changes (Node turns SIGWINCH into `resize` on a TTY stdout). */
export interface TerminalSizeSource {
  size(): TerminalSize | undefined;
  onResize(listener: (size: TerminalSize) => void): () => void;
}

export function terminalSizeOf(output: WriteStream): TerminalSizeSource | undefined {
  if (!output.isTTY) return undefined;
  const size = (): TerminalSize | undefined => (output.columns > 0 && output.rows > 0 ? { width: output.columns, height: output.rows } : undefined);
  return {
    size,
    onResize(listener) {
      const onResize = (): void => {
        const now = size();
        if (now) listener(now);
      };
      output.on('resize', onResize);
      return () => output.off('resize', onResize);
    },
  };
}
