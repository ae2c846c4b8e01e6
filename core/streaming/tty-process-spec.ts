import type { OciProcess } from '../oci/oci-spec';
import type { TerminalSize } from './remote-command';

// The process an exec with a TTY runs: the exec's own process (see execProcessSpec) with a
// terminal, a TERM when the image sets none (containerd and CRI-O both give xterm, and programs
// such as `top` or `vi` refuse to start without one), and the terminal's first size, so the
// command does not see 0x0 before the runtime copies the size of its own terminal.

/** The size a terminal starts with when the client has sent none yet (a VT100's). */
export const DEFAULT_TERMINAL_SIZE: TerminalSize = { width: 80, height: 24 };

/** The TERM an exec with a TTY gets when the container's environment has none. */
export const DEFAULT_TERM = 'xterm';

export function ttyProcessSpec(process: OciProcess, size: TerminalSize): OciProcess {
  const hasTerm = process.env.some((entry) => entry.startsWith('TERM='));
  return {
    ...process,
    terminal: true,
    env: hasTerm ? [...process.env] : [...process.env, `TERM=${DEFAULT_TERM}`],
    consoleSize: { height: size.height, width: size.width },
  };
}

/** A usable terminal size: both dimensions at least 1 (a pty cannot be resized to 0 columns). */
export function isUsableTerminalSize(size: TerminalSize): boolean {
  return size.width >= 1 && size.height >= 1;
}
