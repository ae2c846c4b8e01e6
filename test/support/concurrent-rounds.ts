import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import type { CriClient } from '../../cli/cri-client';
import type { TestRegistry } from './registry/test-registry';
import type { TestDaemon, useTestDaemons } from './test-daemon';

// Helpers for the concurrency tests (issue 15): run two RPCs at once, keep each one's outcome,
// and check many rounds before failing once with a table of what the bad rounds saw.

/** How many times each pair runs. */
export const ROUNDS = 12;

/** How much later the second RPC of a pair starts, by round (ms): at once, then across the first's run. */
export function offsetOf(round: number): number {
  return [0, 0, 2, 5, 10, 20, 35, 50, 80, 120, 160, 220][round % 12] ?? 0;
}

/** One RPC's outcome: OK, or the gRPC status name and the error text. */
export interface Outcome<T> {
  readonly code: string;
  readonly details: string;
  readonly value?: T;
}

export async function outcomeOf<T>(work: Promise<T>): Promise<Outcome<T>> {
  try {
    return { code: 'OK', details: '', value: await work };
  } catch (error) {
    const { code, details, message } = error as { code?: number; details?: string; message?: string };
    return { code: code === undefined ? 'THROWN' : String(grpc.status[code] ?? code), details: details ?? message ?? String(error) };
  }
}

/** Starts `first`, then `second` after `offsetMs`; both outcomes once both have answered. */
export async function race<A, B>(first: () => Promise<A>, second: () => Promise<B>, offsetMs: number): Promise<[Outcome<A>, Outcome<B>]> {
  const a = outcomeOf(first());
  const b = (async () => {
    if (offsetMs > 0) await delay(offsetMs);
    return outcomeOf(second());
  })();
  return Promise.all([a, b]);
}

/**
 * Round `round` of a pair: even rounds start `a` first, odd rounds `b`, the other after
 * offsetOf(round), so both orders are tried at every offset. The outcomes are in argument order.
 */
export async function raceBothOrders<A, B>(a: () => Promise<A>, b: () => Promise<B>, round: number): Promise<[Outcome<A>, Outcome<B>]> {
  if (round % 2 === 0) return race(a, b, offsetOf(round));
  const [ob, oa] = await race(b, a, offsetOf(round));
  return [oa, ob];
}

export const show = (o: Outcome<unknown>): string => (o.code === 'OK' ? 'OK' : `${o.code} (${o.details})`);

/** Collects what every round saw and fails once at the end, listing the bad rounds. */
export class Rounds {
  private readonly problems: string[] = [];
  private readonly seen = new Map<string, number>();

  constructor(private readonly pair: string) {}

  /** Records a round: `summary` groups like outcomes; `problems` are what broke a serial outcome. */
  record(round: number, summary: string, problems: string[], detail: string): void {
    this.seen.set(summary, (this.seen.get(summary) ?? 0) + 1);
    if (problems.length > 0) this.problems.push(`  round ${round}: ${problems.join('; ')}\n      saw: ${detail}`);
  }

  check(): void {
    const seen = [...this.seen].map(([summary, n]) => `  ${n}x ${summary}`).join('\n');
    if (this.problems.length > 0) {
      assert.fail(`${this.pair}: ${this.problems.length} of ${ROUNDS} rounds ended in an outcome no serial order gives:\n${this.problems.join('\n')}\noutcomes seen:\n${seen}`);
    }
  }
}

/** Mount points under `root`, from /proc/self/mountinfo (field 5). */
export function mountsUnder(root: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => (line.split(' ')[4] ?? '').replace(/\\040/g, ' '))
    .filter((mountpoint) => mountpoint === root || mountpoint.startsWith(`${root}/`));
}

/** A test daemon that trusts the registry, with the busybox image pulled. */
export async function daemonWithBusybox(daemons: ReturnType<typeof useTestDaemons>, registry: TestRegistry, image: string): Promise<{ d: TestDaemon; client: CriClient }> {
  const d = await daemons.start({ config: { 'insecure-registries': [registry.host] } });
  const client = d.client();
  await client.call('PullImage', { image: { image } });
  return { d, client };
}
