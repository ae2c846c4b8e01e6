// CPU use as a rate ("nano cores": 1e9 is one core busy all the time) from the cumulative CPU
// counter of a cgroup, sampled at each stats call. The previous sample of each key (a container
// or sandbox ID) is kept in memory; the rate is Δcpu / Δt × 1e9 between two samples.
//
// The first sample of a key has nothing to compare with: the rate is absent (undefined), not 0.
// A 0 would claim the container idled; an absent usage_nano_cores lets the kubelet compute the
// rate from usage_core_nano_seconds itself (it does when the runtime leaves the field unset).
// The same holds after a counter went backwards (a container restarted under the same key) and
// when the clock did not move forward.
//
// Samples closer together than `minIntervalNanos` (two clients polling at once) do not replace
// the baseline: they get the last rate computed, so a burst of calls does not shrink the window
// to a few milliseconds of noise.

export interface CpuSample {
  /** Cumulative CPU time, nanoseconds. */
  readonly cpuNanos: bigint;
  /** When the counter was read, nanoseconds since the epoch. */
  readonly timestampNanos: bigint;
}

const NANOS_PER_SECOND = 1_000_000_000n;

export class CpuRateTracker {
  private readonly previous = new Map<string, { readonly sample: CpuSample; readonly rate: number | undefined }>();

  constructor(private readonly minIntervalNanos: bigint = 100_000_000n) {}

  /** Records a sample of `key`; returns nano cores since the previous sample, or undefined (see above). */
  sample(key: string, sample: CpuSample): number | undefined {
    const before = this.previous.get(key);
    if (before === undefined) {
      this.previous.set(key, { sample, rate: undefined });
      return undefined;
    }
    const elapsed = sample.timestampNanos - before.sample.timestampNanos;
    const used = sample.cpuNanos - before.sample.cpuNanos;
    if (used < 0n || elapsed < 0n) {
      this.previous.set(key, { sample, rate: undefined });
      return undefined;
    }
    if (elapsed < this.minIntervalNanos || elapsed === 0n) return before.rate;
    const rate = Number((used * NANOS_PER_SECOND) / elapsed);
    this.previous.set(key, { sample, rate });
    return rate;
  }

  /** Drops every key not in `alive` (removed containers and sandboxes). */
  retain(alive: Iterable<string>): void {
    const keep = new Set(alive);
    for (const key of this.previous.keys()) if (!keep.has(key)) this.previous.delete(key);
  }

  /** How many keys have a baseline (for tests). */
  get size(): number {
    return this.previous.size;
  }
}
