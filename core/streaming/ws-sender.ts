import type { WebSocket } from 'ws';

// Sending on a WebSocket with backpressure. `ws` queues whatever it is given; a client that reads
// slower than a command writes would make that queue, and the daemon, grow without bound. This
// says "behind" once more than HIGH_WATER_BYTES wait to go out, and calls back the paused sources
// once a send completes below it.

/** Bytes waiting to go out on one WebSocket beyond which sources are asked to pause. */
export const WS_HIGH_WATER_BYTES = 1024 * 1024;

export class WebSocketSender {
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly ws: WebSocket,
    private readonly highWaterBytes = WS_HIGH_WATER_BYTES,
  ) {
    // A closed socket takes nothing more; whoever waits goes on (and finds it closed).
    ws.once('close', () => this.release());
  }

  /** Sends `data` if the socket is open; false when the socket is behind (wait for `whenDrained`). */
  send(data: Buffer | string): boolean {
    if (this.ws.readyState !== this.ws.OPEN) return true;
    this.ws.send(data, () => {
      if (!this.behind()) this.release();
    });
    return !this.behind();
  }

  whenDrained(resume: () => void): void {
    if (this.behind()) this.waiting.push(resume);
    else resume();
  }

  private behind(): boolean {
    return this.ws.readyState === this.ws.OPEN && this.ws.bufferedAmount >= this.highWaterBytes;
  }

  private release(): void {
    for (const resume of this.waiting.splice(0)) resume();
  }
}
