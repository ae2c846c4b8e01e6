import type { Writable } from 'node:stream';

/**
 * Calls `resume` once every one of `streams` can take more: at once when none is full, else when
 * the full ones have drained or closed (a closed stream takes nothing, so nothing should wait on
 * it). Callers pause their source first, and use this to resume it.
 */
export function whenDrained(streams: readonly (Writable | undefined)[], resume: () => void): void {
  const full = streams.filter((stream): stream is Writable => stream !== undefined && stream.writableNeedDrain && !stream.destroyed);
  let waiting = full.length;
  if (waiting === 0) return resume();
  for (const stream of full) {
    const done = (): void => {
      stream.off('drain', done).off('close', done);
      if (--waiting === 0) resume();
    };
    stream.on('drain', done).on('close', done);
  }
}
