// The CRI log format conmon writes: `<RFC3339Nano timestamp> <stdout|stderr> <F|P> <message>`,
// one line each; a `P` (partial) line continues on the next line of the same stream.

export interface CriLogEntry {
  readonly timestamp: string;
  readonly stream: 'stdout' | 'stderr';
  readonly partial: boolean;
  readonly message: string;
}

const LINE = /^(\S+) (stdout|stderr) ([FP])(?: (.*))?$/s;

/** One line of a CRI log file (without its newline), or undefined when it is not one. */
export function parseCriLogLine(line: string): CriLogEntry | undefined {
  const match = LINE.exec(line);
  if (!match) return undefined;
  return {
    timestamp: match[1] ?? '',
    stream: match[2] === 'stderr' ? 'stderr' : 'stdout',
    partial: match[3] === 'P',
    message: match[4] ?? '',
  };
}

export interface LogPrinterOptions {
  readonly timestamps?: boolean;
  readonly write: (stream: 'stdout' | 'stderr', text: string) => void;
}

/**
 * Turns CRI log lines back into the container's output: a full line ends with a newline, a
 * partial one does not, and with `timestamps` each output line starts with the timestamp of its
 * first piece (as kubelet's `kubectl logs --timestamps`).
 */
export class CriLogPrinter {
  private readonly atLineStart = { stdout: true, stderr: true };

  constructor(private readonly options: LogPrinterOptions) {}

  line(text: string): void {
    const entry = parseCriLogLine(text);
    if (!entry) return; // Not a CRI log line (a torn write, or another format): skipped.
    const prefix = this.options.timestamps && this.atLineStart[entry.stream] ? `${entry.timestamp} ` : '';
    this.options.write(entry.stream, `${prefix}${entry.message}${entry.partial ? '' : '\n'}`);
    this.atLineStart[entry.stream] = !entry.partial;
  }
}

/** The last `count` lines (all when count < 0). */
export function lastLines<T>(lines: readonly T[], count: number): readonly T[] {
  if (count < 0) return lines;
  return count === 0 ? [] : lines.slice(-count);
}
