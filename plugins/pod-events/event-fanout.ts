import { ResourceExhaustedError } from '../../core/plugin-api';

// Fan-out of one ordered event stream to any number of subscribers, each with a bounded queue.
// A subscriber gets every item published while it is subscribed, in order, once. One that falls
// behind (its queue is full when an item arrives) is failed with RESOURCE_EXHAUSTED and removed:
// nothing is dropped silently and no queue grows without bound. Pure: no I/O, no timers.
// With `holdForFirstSubscriber`, items published before anyone ever subscribed are kept (at most
// buffer-size and one more) and given to the first subscriber as if it had been there: one more
// than its queue holds fails it as fallen behind, so an overflow there is not silent either.

/** A subscriber's queue overflowed; the stream must end so that the client relists. */
export class SubscriberFellBehindError extends ResourceExhaustedError {
  constructor(readonly bufferSize: number, hint: string) {
    super(`the event subscriber fell behind: ${bufferSize} events were already waiting to be sent to it (buffer-size ${bufferSize}); ${hint}`);
  }
}

export type NextResult<T> = { readonly done: false; readonly value: T } | { readonly done: true };

export interface Subscription<T> {
  /** The next item (waiting for one), `done` once closed or aborted; rejects when it fell behind. */
  next(): Promise<NextResult<T>>;
  /** Rejects with SubscriberFellBehindError when the queue overflows (never resolves otherwise). */
  readonly failure: Promise<never>;
  /** Stops delivery and frees the subscription; safe to call twice. */
  close(): void;
}

export interface FanoutOptions {
  /** The most items that may wait for one subscriber. */
  readonly bufferSize: number;
  /** Appended to the overflow message: how to raise the buffer. */
  readonly overflowHint?: string;
  /** Keep what is published before the first subscriber, for it (see the top of this file). */
  readonly holdForFirstSubscriber?: boolean;
  /** Told when the number of subscribers changes. */
  readonly onSubscribersChanged?: (count: number, change: 'subscribed' | 'closed' | 'fell-behind') => void;
}

class Subscriber<T> implements Subscription<T> {
  private readonly queue: T[] = [];
  private waiter: { resolve: (r: NextResult<T>) => void; reject: (e: unknown) => void } | undefined;
  private error: unknown;
  private closed = false;
  private rejectFailure!: (error: unknown) => void;
  readonly failure: Promise<never>;

  constructor(
    private readonly bufferSize: number,
    private readonly hint: string,
    private readonly detach: (subscriber: Subscriber<T>, change: 'closed' | 'fell-behind') => void,
  ) {
    this.failure = new Promise<never>((_resolve, reject) => (this.rejectFailure = reject));
    // Nobody need listen to `failure`; an overflow must not become an unhandled rejection.
    this.failure.catch(() => undefined);
  }

  /** Called by the fan-out; fails the subscriber instead of growing past the buffer. */
  offer(item: T): void {
    if (this.closed) return;
    if (this.waiter) {
      const { resolve } = this.waiter;
      this.waiter = undefined;
      resolve({ done: false, value: item });
      return;
    }
    if (this.queue.length >= this.bufferSize) {
      this.fail(new SubscriberFellBehindError(this.bufferSize, this.hint));
      return;
    }
    this.queue.push(item);
  }

  next(): Promise<NextResult<T>> {
    if (this.error !== undefined) return Promise.reject(this.error);
    if (this.queue.length > 0) return Promise.resolve({ done: false, value: this.queue.shift() as T });
    if (this.closed) return Promise.resolve({ done: true });
    if (this.waiter) return Promise.reject(new Error('next() called again before the previous call resolved'));
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve({ done: true });
    this.detach(this, 'closed');
  }

  private fail(error: unknown): void {
    this.error = error;
    this.closed = true;
    this.queue.length = 0;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(error);
    this.rejectFailure(error);
    this.detach(this, 'fell-behind');
  }
}

export class EventFanout<T> {
  private readonly subscribers = new Set<Subscriber<T>>();
  /** Items published before the first subscriber; undefined once it came (or when not holding). */
  private held: T[] | undefined;

  constructor(private readonly options: FanoutOptions) {
    if (!Number.isInteger(options.bufferSize) || options.bufferSize < 1) throw new RangeError(`bufferSize must be a positive integer, not ${options.bufferSize}`);
    if (options.holdForFirstSubscriber) this.held = [];
  }

  /** Delivers to every current subscriber (synchronously queued, in call order). */
  publish(item: T): void {
    // One past the buffer is enough to fail the first subscriber; more would only cost memory.
    if (this.held && this.held.length <= this.options.bufferSize) this.held.push(item);
    for (const subscriber of [...this.subscribers]) subscriber.offer(item);
  }

  /** Items held for the first subscriber (for tests and logs). */
  get heldCount(): number {
    return this.held?.length ?? 0;
  }

  /** A new subscriber; it is closed when `signal` aborts. */
  subscribe(signal?: AbortSignal): Subscription<T> {
    const subscriber = new Subscriber<T>(this.options.bufferSize, this.options.overflowHint ?? '', (s, change) => {
      if (this.subscribers.delete(s)) this.options.onSubscribersChanged?.(this.subscribers.size, change);
    });
    if (signal?.aborted) {
      subscriber.close();
      return subscriber;
    }
    this.subscribers.add(subscriber);
    this.options.onSubscribersChanged?.(this.subscribers.size, 'subscribed');
    signal?.addEventListener('abort', () => subscriber.close(), { once: true });
    const held = this.held;
    this.held = undefined;
    for (const item of held ?? []) subscriber.offer(item);
    return subscriber;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Ends every subscription (their next() resolves done). */
  closeAll(): void {
    for (const subscriber of [...this.subscribers]) subscriber.close();
  }
}
