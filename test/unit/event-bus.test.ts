import assert from 'node:assert/strict';
import { EventBus, type LifecycleEvent } from '../../core/events/event-bus';

// The core EventBus: order, listener errors, and the start-up backlog replayed to late listeners.

const event = (containerId: string): LifecycleEvent => ({ type: 'CONTAINER_STOPPED_EVENT', containerId, sandboxId: 's1', createdAtNanos: 1n });

describe('EventBus', () => {
  it('replays what was published during start-up to a listener that subscribes before endStartup', () => {
    const bus = new EventBus();
    const early: string[] = [];
    bus.subscribe((e) => early.push(e.containerId));
    bus.publish(event('a'));
    bus.publish(event('b'));
    const late: string[] = [];
    bus.subscribe((e) => late.push(e.containerId));
    bus.publish(event('c'));
    assert.deepEqual(early, ['a', 'b', 'c']);
    assert.deepEqual(late, ['a', 'b', 'c']);
  });

  it('gives a listener that subscribes after endStartup only later events', () => {
    const bus = new EventBus();
    bus.publish(event('a'));
    assert.equal(bus.endStartup(), 0);
    const seen: string[] = [];
    bus.subscribe((e) => seen.push(e.containerId));
    bus.publish(event('b'));
    assert.deepEqual(seen, ['b']);
  });

  it('delivers an event a replayed listener publishes to that listener too, in order', () => {
    const bus = new EventBus();
    bus.publish(event('a'));
    const seen: string[] = [];
    bus.subscribe((e) => {
      seen.push(e.containerId);
      if (e.containerId === 'a') bus.publish(event('a2'));
    });
    assert.deepEqual(seen, ['a', 'a2']);
  });

  it('bounds the backlog, dropping the oldest, and answers how many were dropped', () => {
    const bus = new EventBus(() => undefined, 2);
    for (const id of ['a', 'b', 'c', 'd']) bus.publish(event(id));
    const seen: string[] = [];
    bus.subscribe((e) => seen.push(e.containerId));
    assert.deepEqual(seen, ['c', 'd']);
    assert.equal(bus.endStartup(), 2);
  });

  it('reports a listener that throws and still delivers to the others', () => {
    const errors: unknown[] = [];
    const bus = new EventBus((error) => errors.push(error));
    bus.endStartup();
    const seen: string[] = [];
    bus.subscribe(() => {
      throw new Error('boom');
    });
    bus.subscribe((e) => seen.push(e.containerId));
    bus.publish(event('a'));
    assert.deepEqual(seen, ['a']);
    assert.equal(errors.length, 1);
  });
});
