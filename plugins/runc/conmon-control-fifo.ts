import * as fs from 'node:fs';
import { describeError } from '../../core/plugin-api';

// Writes lines to conmon's control FIFO (`<bundle>/ctl`). conmon keeps the read end open for its
// whole life, so the FIFO opens at once; it is opened non-blocking all the same, so that a FIFO
// whose conmon has gone (no reader: ENXIO) or is full (EAGAIN) fails instead of stalling the
// daemon. A line is a few bytes, below PIPE_BUF, so it is written whole or not at all.

export class ControlFifo {
  private fd: number | undefined;
  private closed = false;

  constructor(private readonly fifoPath: string) {}

  /** Writes `line`; throws with the FIFO's path and the cause when it cannot. */
  write(line: string): void {
    if (this.closed) return;
    try {
      this.fd ??= fs.openSync(this.fifoPath, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
      fs.writeSync(this.fd, line);
    } catch (error) {
      throw new Error(`cannot write to conmon's control FIFO ${this.fifoPath}: ${describeError(error)}`, { cause: error });
    }
  }

  close(): void {
    this.closed = true;
    if (this.fd === undefined) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // Already gone; nothing to release.
    }
    this.fd = undefined;
  }
}
