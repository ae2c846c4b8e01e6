import assert from 'node:assert/strict';
import { CpuRateTracker } from '../../core/stats/cpu-rate';

const S = 1_000_000_000n;

describe('CPU rate (nano cores between samples)', () => {
  it('has no rate on the first sample of a key, then Δcpu / Δt × 1e9', () => {
    const rates = new CpuRateTracker();
    assert.equal(rates.sample('c1', { cpuNanos: 5n * S, timestampNanos: 100n * S }), undefined);
    // Half a core for 2 s: 1 s of CPU.
    assert.equal(rates.sample('c1', { cpuNanos: 6n * S, timestampNanos: 102n * S }), 500_000_000);
    // Two cores for 1 s.
    assert.equal(rates.sample('c1', { cpuNanos: 8n * S, timestampNanos: 103n * S }), 2_000_000_000);
    // Idle.
    assert.equal(rates.sample('c1', { cpuNanos: 8n * S, timestampNanos: 104n * S }), 0);
  });

  it('keeps one baseline per key', () => {
    const rates = new CpuRateTracker();
    rates.sample('a', { cpuNanos: 0n, timestampNanos: 0n });
    rates.sample('b', { cpuNanos: 0n, timestampNanos: 0n });
    assert.equal(rates.sample('a', { cpuNanos: S, timestampNanos: S }), 1e9);
    assert.equal(rates.sample('b', { cpuNanos: S / 4n, timestampNanos: S }), 250_000_000);
  });

  it('answers samples closer than the minimum interval with the last rate, keeping the baseline', () => {
    const rates = new CpuRateTracker(100_000_000n);
    rates.sample('c', { cpuNanos: 0n, timestampNanos: 0n });
    assert.equal(rates.sample('c', { cpuNanos: 10_000_000n, timestampNanos: 50_000_000n }), undefined, 'no rate yet');
    assert.equal(rates.sample('c', { cpuNanos: S, timestampNanos: S }), 1e9, 'measured from the first sample');
    assert.equal(rates.sample('c', { cpuNanos: S, timestampNanos: S + 1_000_000n }), 1e9, 'the last rate');
    assert.equal(rates.sample('c', { cpuNanos: S, timestampNanos: 2n * S }), 0, 'baseline was the sample at 1 s');
  });

  it('starts over when the counter goes backwards (a new container under the key) or time does', () => {
    const rates = new CpuRateTracker();
    rates.sample('c', { cpuNanos: 10n * S, timestampNanos: 10n * S });
    assert.equal(rates.sample('c', { cpuNanos: S, timestampNanos: 11n * S }), undefined);
    assert.equal(rates.sample('c', { cpuNanos: 2n * S, timestampNanos: 12n * S }), 1e9);
    assert.equal(rates.sample('c', { cpuNanos: 3n * S, timestampNanos: 5n * S }), undefined);
  });

  it('forgets keys that are gone', () => {
    const rates = new CpuRateTracker();
    rates.sample('a', { cpuNanos: 0n, timestampNanos: 0n });
    rates.sample('b', { cpuNanos: 0n, timestampNanos: 0n });
    rates.retain(['b', 'c']);
    assert.equal(rates.size, 1);
    assert.equal(rates.sample('a', { cpuNanos: S, timestampNanos: S }), undefined, 'a starts over');
  });
});
