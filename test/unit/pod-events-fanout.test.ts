import assert from 'node:assert/strict';
import { EventFanout, SubscriberFellBehindError } from '../../plugins/pod-events/event-fanout';

// The queue and fan-out behind GetContainerEvents: order, overflow, cancel, many subscribers.

const drain = async <T>(sub: { next(): Promise<{ done: boolean; value?: T }> }, n: number): Promise<T[]> => {
  const out: T[] = [];
  for (let i = 0; i < n; i += 1) {
    const r = await sub.next();
    if (r.done) break;
    out.push(r.value as T);
  }
  return out;
};

describe('pod-events fan-out', () => {
  it('delivers every item in order, once, including items published while a reader waits', async () => {
    const fanout = new EventFanout<number>({ bufferSize: 10 });
    const sub = fanout.subscribe();
    const waiting = sub.next();
    fanout.publish(1);
    fanout.publish(2);
    fanout.publish(3);
    assert.deepEqual(await waiting, { done: false, value: 1 });
    assert.deepEqual(await drain(sub, 2), [2, 3]);
    let settled = false;
    void sub.next().then(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false, 'nothing is delivered twice');
  });

  it('gives a subscriber only what is published while it is subscribed', async () => {
    const fanout = new EventFanout<string>({ bufferSize: 10 });
    fanout.publish('before');
    const sub = fanout.subscribe();
    fanout.publish('during');
    sub.close();
    fanout.publish('after');
    assert.deepEqual(await sub.next(), { done: true });
  });

  it('fails a subscriber whose queue is full with RESOURCE_EXHAUSTED naming the buffer size, and forgets it', async () => {
    const changes: string[] = [];
    const fanout = new EventFanout<number>({ bufferSize: 3, overflowHint: 'raise it', onSubscribersChanged: (n, change) => changes.push(`${change}:${n}`) });
    const slow = fanout.subscribe();
    for (let i = 0; i < 3; i += 1) fanout.publish(i);
    assert.equal(fanout.subscriberCount, 1);
    fanout.publish(3);
    assert.equal(fanout.subscriberCount, 0);
    await assert.rejects(slow.failure, (error: unknown) => {
      assert.ok(error instanceof SubscriberFellBehindError);
      assert.equal(error.code, 'RESOURCE_EXHAUSTED');
      assert.equal(error.message, 'the event subscriber fell behind: 3 events were already waiting to be sent to it (buffer-size 3); raise it');
      return true;
    });
    await assert.rejects(slow.next(), SubscriberFellBehindError);
    assert.deepEqual(changes, ['subscribed:1', 'fell-behind:0']);
    fanout.publish(4); // nothing left to deliver to: no throw
  });

  it('rejects a reader already waiting when the subscriber fails', async () => {
    const fanout = new EventFanout<number>({ bufferSize: 1 });
    const sub = fanout.subscribe();
    const first = await Promise.all([sub.next(), Promise.resolve(fanout.publish(1))]);
    assert.deepEqual(first[0], { done: false, value: 1 });
    fanout.publish(2); // queued (the reader is busy writing)
    fanout.publish(3); // overflow
    await assert.rejects(sub.failure, SubscriberFellBehindError);
  });

  it('frees a subscription when its signal aborts, ending a waiting next()', async () => {
    const fanout = new EventFanout<number>({ bufferSize: 5 });
    const controller = new AbortController();
    const sub = fanout.subscribe(controller.signal);
    const waiting = sub.next();
    assert.equal(fanout.subscriberCount, 1);
    controller.abort();
    assert.deepEqual(await waiting, { done: true });
    assert.equal(fanout.subscriberCount, 0);
    sub.close(); // twice is fine
    assert.equal(fanout.subscriberCount, 0);
    const late = fanout.subscribe(controller.signal);
    assert.equal(fanout.subscriberCount, 0, 'an already-aborted signal never subscribes');
    assert.deepEqual(await late.next(), { done: true });
  });

  it('feeds two subscribers the same sequence; one falling behind does not disturb the other', async () => {
    const fanout = new EventFanout<number>({ bufferSize: 2 });
    const reader = fanout.subscribe();
    const stalled = fanout.subscribe();
    const seen: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      fanout.publish(i);
      seen.push(...(await drain(reader, 1)));
    }
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5]);
    await assert.rejects(stalled.failure, SubscriberFellBehindError);
    assert.equal(fanout.subscriberCount, 1);
  });

  it('refuses a buffer size below 1', () => {
    assert.throws(() => new EventFanout({ bufferSize: 0 }), /bufferSize must be a positive integer, not 0/);
  });

  it('closeAll ends every subscription', async () => {
    const fanout = new EventFanout<number>({ bufferSize: 2 });
    const a = fanout.subscribe();
    const b = fanout.subscribe();
    fanout.closeAll();
    assert.deepEqual([await a.next(), await b.next()], [{ done: true }, { done: true }]);
    assert.equal(fanout.subscriberCount, 0);
  });

  it('with holdForFirstSubscriber, gives the first subscriber what came before it, and only the first', async () => {
    const fanout = new EventFanout<number>({ bufferSize: 5, holdForFirstSubscriber: true });
    fanout.publish(1);
    fanout.publish(2);
    assert.equal(fanout.heldCount, 2);
    const first = fanout.subscribe();
    fanout.publish(3);
    const second = fanout.subscribe();
    fanout.publish(4);
    assert.deepEqual(await drain(first, 4), [1, 2, 3, 4]);
    assert.deepEqual(await drain(second, 1), [4]);
    assert.equal(fanout.heldCount, 0);
  });

  it('keeps held items for the next subscriber when the first one was already aborted', async () => {
    const fanout = new EventFanout<number>({ bufferSize: 5, holdForFirstSubscriber: true });
    fanout.publish(1);
    const controller = new AbortController();
    controller.abort();
    assert.deepEqual(await fanout.subscribe(controller.signal).next(), { done: true });
    assert.deepEqual(await drain(fanout.subscribe(), 1), [1]);
  });

  it('fails the first subscriber as fallen behind when more than buffer-size came before it', async () => {
    const fanout = new EventFanout<number>({ bufferSize: 2, holdForFirstSubscriber: true });
    for (let i = 0; i < 10; i += 1) fanout.publish(i);
    assert.equal(fanout.heldCount, 3, 'holds one more than the buffer, no more');
    const first = fanout.subscribe();
    await assert.rejects(first.next(), SubscriberFellBehindError);
    assert.equal(fanout.subscriberCount, 0);
  });
});
