/**
 * Keeps the first `cap` bytes of a stream as the chunks are read and drops the rest, so a
 * program's output can be drained in full without the daemon's memory growing with it.
 */
export class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly cap: number) {}

  push(chunk: Buffer): void {
    const room = this.cap - this.size;
    if (room <= 0) return;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(kept);
    this.size += kept.length;
  }

  buffer(): Buffer {
    if (this.chunks.length === 1 && this.chunks[0]) return this.chunks[0];
    return Buffer.concat(this.chunks, this.size);
  }

  text(): string {
    return this.buffer().toString('utf8');
  }
}
