import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { whenDrained } from '../../core/streaming/stream-drain';

// whenDrained: the resume half of the flow control between clients and commands.

describe('whenDrained', () => {
  it('resumes at once when no stream is full (or none is given)', () => {
    let resumed = 0;
    whenDrained([new PassThrough(), undefined], () => resumed++);
    whenDrained([], () => resumed++);
    assert.equal(resumed, 2);
  });

  it('resumes once every full stream has drained, not before', async () => {
    const slow = (): Writable & { release(): void } => {
      const pending: (() => void)[] = [];
      const stream = new Writable({ highWaterMark: 4, write: (_chunk, _encoding, done) => void pending.push(done) });
      return Object.assign(stream, { release: () => pending.splice(0).forEach((done) => done()) });
    };
    const a = slow();
    const b = slow();
    assert.equal(a.write(Buffer.alloc(8)), false);
    assert.equal(b.write(Buffer.alloc(8)), false);
    let resumed = 0;
    whenDrained([a, b], () => resumed++);
    a.release();
    await new Promise((r) => setImmediate(r));
    assert.equal(resumed, 0, 'resumed while b was still full');
    b.release();
    await new Promise((r) => setImmediate(r));
    assert.equal(resumed, 1);
  });

  it('resumes when a full stream closes instead of draining', async () => {
    const stuck = new Writable({ highWaterMark: 4, write: () => undefined });
    assert.equal(stuck.write(Buffer.alloc(8)), false);
    let resumed = 0;
    whenDrained([stuck], () => resumed++);
    stuck.destroy();
    await new Promise((r) => setImmediate(r));
    assert.equal(resumed, 1);
  });
});
