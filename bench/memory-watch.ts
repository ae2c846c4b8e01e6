// What the exec benchmark reports of its own process's memory after each measure: RSS, and the
// peaks of RSS and of Buffers between readings, which a reading taken only at the end would miss.

/** The process's memory once a measure's runs are done, and the most it reached during them. */
export interface MemoryStage {
  readonly after: string;
  readonly rss: number;
  readonly rssPeak: number;
  /** Memory held by Buffers (process.memoryUsage().arrayBuffers): where streamed bytes wait. */
  readonly buffersPeak: number;
  /** V8 heap plus Buffers after a full GC, when node runs with --expose-gc (live memory, unlike RSS). */
  readonly live: number | undefined;
}

/**
 * Polls the process's memory every 10 ms, to catch the peaks that buffering makes between
 * readings; `stage()` reads it now and takes the peaks since the last stage.
 */
export class MemoryWatch {
  private rssPeak = 0;
  private buffersPeak = 0;
  private readonly timer = setInterval(() => this.poll(), 10);

  stage(after: string): MemoryStage {
    const { rss } = this.poll();
    const stage = { after, rss, rssPeak: this.rssPeak, buffersPeak: this.buffersPeak, live: liveMemory() };
    this.rssPeak = 0;
    this.buffersPeak = 0;
    return stage;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private poll(): { rss: number } {
    const { rss, arrayBuffers } = process.memoryUsage();
    this.rssPeak = Math.max(this.rssPeak, rss);
    this.buffersPeak = Math.max(this.buffersPeak, arrayBuffers);
    return { rss };
  }
}

/** V8 heap plus memory outside it (Buffers) after a full GC; undefined unless node runs with --expose-gc. */
function liveMemory(): number | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return undefined;
  gc();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}
