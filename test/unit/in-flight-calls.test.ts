import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { InFlightCalls } from '../../core/cri/in-flight-calls';

// The tracker shutdown drains: settled calls leave it, idle() is bounded, abortAll reaches handlers.

describe('InFlightCalls', () => {
  it('is idle once every tracked call settles, whether it resolved or rejected', async () => {
    const calls = new InFlightCalls();
    calls.track({ rpc: 'A', controller: new AbortController() }, delay(20));
    calls.track({ rpc: 'B', controller: new AbortController() }, delay(30).then(() => Promise.reject(new Error('x'))));
    assert.deepEqual(calls.names(), ['A', 'B']);
    assert.equal(await calls.idle(1000), true);
    assert.equal(calls.count, 0);
  });

  it('answers false after the bound, and abortAll aborts each call\'s signal', async () => {
    const calls = new InFlightCalls();
    const controller = new AbortController();
    calls.track({ rpc: 'Slow', controller }, new Promise((resolve) => controller.signal.addEventListener('abort', resolve)));
    assert.equal(await calls.idle(20), false);
    calls.abortAll('shutting down');
    assert.equal(controller.signal.aborted, true);
    assert.equal(await calls.idle(1000), true);
  });
});
