import * as fs from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { lastLines } from './cri-log';

// Reads a container's log file as `tail`/`tail -F` would: the last N lines, then (following)
// whatever is appended. When the file at the path is a new one (rotation: kubelet renames it and
// calls ReopenContainerLog, so conmon opens a new file there), the old file is drained first and
// the new one read from its start. Following ends once `finished()` says the writer is done and
// the file is drained, or when `signal` aborts (SIGINT).

export interface LogFollowOptions {
  readonly path: string;
  /** How many of the existing lines to print first; -1 for all. */
  readonly tail: number;
  readonly follow: boolean;
  readonly onLine: (line: string) => void;
  /** Whether the writer has finished (the container exited or is gone); asked while following. */
  readonly finished: () => Promise<boolean>;
  readonly signal?: AbortSignal;
  readonly pollMs?: number;
  readonly finishedCheckMs?: number;
}

const CHUNK = 64 * 1024;

/** Splits bytes into lines at '\n' (on bytes, so a multi-byte character is never cut). */
class LineSplitter {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): string[] {
    const data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const lines: string[] = [];
    let start = 0;
    for (let end = data.indexOf(10, start); end >= 0; end = data.indexOf(10, start)) {
      lines.push(data.toString('utf8', start, end));
      start = end + 1;
    }
    this.pending = Buffer.from(data.subarray(start));
    return lines;
  }

  /** What is left without a newline (a line being written, or the end of a rotated file). */
  flush(): string | undefined {
    if (this.pending.length === 0) return undefined;
    const rest = this.pending.toString('utf8');
    this.pending = Buffer.alloc(0);
    return rest;
  }

  clear(): void {
    this.pending = Buffer.alloc(0);
  }
}

interface OpenFile {
  readonly fd: number;
  readonly ino: number;
  position: number;
}

function openLog(file: string): OpenFile | undefined {
  try {
    const fd = fs.openSync(file, 'r');
    return { fd, ino: fs.fstatSync(fd).ino, position: 0 };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function readToEnd(file: OpenFile, splitter: LineSplitter): string[] {
  const lines: string[] = [];
  const buffer = Buffer.alloc(CHUNK);
  for (;;) {
    const count = fs.readSync(file.fd, buffer, 0, CHUNK, file.position);
    if (count === 0) return lines;
    file.position += count;
    lines.push(...splitter.push(buffer.subarray(0, count)));
  }
}

function inodeAt(file: string): { ino: number; size: number } | undefined {
  try {
    const stat = fs.statSync(file);
    return { ino: stat.ino, size: stat.size };
  } catch {
    return undefined;
  }
}

export async function followLogFile(options: LogFollowOptions): Promise<void> {
  const pollMs = options.pollMs ?? 100;
  const finishedCheckMs = options.finishedCheckMs ?? 500;
  const splitter = new LineSplitter();
  let file = openLog(options.path);
  if (!file && !options.follow) throw new Error(`log file ${options.path} does not exist`);
  try {
    const existing = file ? readToEnd(file, splitter) : [];
    if (!options.follow) {
      const rest = splitter.flush();
      if (rest !== undefined) existing.push(rest);
    }
    for (const line of lastLines(existing, options.tail)) options.onLine(line);
    if (!options.follow) return;

    let done = false;
    let nextCheck = 0;
    while (!options.signal?.aborted) {
      if (!file) file = openLog(options.path);
      if (file) for (const line of readToEnd(file, splitter)) options.onLine(line);

      const current = inodeAt(options.path);
      if (file && current && current.ino !== file.ino) {
        // Rotated: drain the old file once more (the writer may have written to it until it
        // opened the new one), then read the new one from its start.
        for (const line of readToEnd(file, splitter)) options.onLine(line);
        const rest = splitter.flush();
        if (rest !== undefined) options.onLine(rest);
        fs.closeSync(file.fd);
        file = openLog(options.path);
        continue;
      }
      if (file && current && current.size < file.position) {
        // Truncated in place (copytruncate): start over.
        file.position = 0;
        splitter.clear();
        continue;
      }
      if (done) break;
      if (Date.now() >= nextCheck) {
        nextCheck = Date.now() + finishedCheckMs;
        if (await options.finished()) {
          // One more pass after a pause, for whatever the writer flushed as it ended.
          done = true;
        }
      }
      try {
        await delay(pollMs, undefined, options.signal ? { signal: options.signal } : {});
      } catch {
        break; // aborted
      }
    }
    if (file) for (const line of readToEnd(file, splitter)) options.onLine(line);
  } finally {
    const rest = splitter.flush();
    if (rest !== undefined) options.onLine(rest);
    if (file) fs.closeSync(file.fd);
  }
}
