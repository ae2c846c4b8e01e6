// Per-object serialisation: operations on the same object (a sandbox, a container, an image, a
// pod name) queue behind each other, operations on different objects never wait for each other,
// so there is no global lock for unrelated pods to queue on. Shared holders (many
// CreateContainer in one pod) run together; an exclusive holder (RemovePodSandbox) waits for
// them and they for it. Locks live in memory: a daemon restart releases them all, and recovery
// at start-up completes or rolls back whatever was in flight.

import type { ObjectLocks } from '../tokens';

type Mode = 'shared' | 'exclusive';

interface Waiter {
  readonly mode: Mode;
  readonly grant: () => void;
}

interface LockState {
  shared: number;
  exclusive: boolean;
  readonly queue: Waiter[];
}

export class KeyedLock implements ObjectLocks {
  private readonly locks = new Map<string, LockState>();

  /** Runs `work` holding `key` exclusively. */
  exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    return this.hold([{ key, mode: 'exclusive' }], work);
  }

  /** Runs `work` holding `key` shared with other shared holders. */
  shared<T>(key: string, work: () => Promise<T>): Promise<T> {
    return this.hold([{ key, mode: 'shared' }], work);
  }

  /**
   * Runs `work` holding several keys; they are taken in sorted order, so two callers asking for
   * the same keys in different orders cannot deadlock.
   */
  async hold<T>(wanted: readonly { readonly key: string; readonly mode: Mode }[], work: () => Promise<T>): Promise<T> {
    const ordered = [...new Map(wanted.map((w) => [w.key, w])).values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const taken: { key: string; mode: Mode }[] = [];
    try {
      for (const { key, mode } of ordered) {
        await this.acquire(key, mode);
        taken.push({ key, mode });
      }
      return await work();
    } finally {
      for (const { key, mode } of taken.reverse()) this.release(key, mode);
    }
  }

  /** Keys held or waited for right now (for tests and the debug log). */
  get size(): number {
    return this.locks.size;
  }

  private acquire(key: string, mode: Mode): Promise<void> {
    const state = this.locks.get(key) ?? { shared: 0, exclusive: false, queue: [] };
    this.locks.set(key, state);
    if (state.queue.length === 0 && canGrant(state, mode)) {
      take(state, mode);
      return Promise.resolve();
    }
    return new Promise((resolve) => state.queue.push({ mode, grant: resolve }));
  }

  private release(key: string, mode: Mode): void {
    const state = this.locks.get(key);
    if (!state) return;
    if (mode === 'exclusive') state.exclusive = false;
    else state.shared -= 1;
    // Wake waiters in arrival order while they fit: a run of shared waiters goes together.
    while (state.queue.length > 0 && canGrant(state, (state.queue[0] as Waiter).mode)) {
      const next = state.queue.shift() as Waiter;
      take(state, next.mode);
      next.grant();
    }
    if (!state.exclusive && state.shared === 0 && state.queue.length === 0) this.locks.delete(key);
  }
}

function canGrant(state: LockState, mode: Mode): boolean {
  return mode === 'shared' ? !state.exclusive : !state.exclusive && state.shared === 0;
}

function take(state: LockState, mode: Mode): void {
  if (mode === 'exclusive') state.exclusive = true;
  else state.shared += 1;
}
