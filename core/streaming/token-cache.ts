import { randomBytes } from 'node:crypto';
import { ResourceExhaustedError } from '../errors';

// Single-use tokens for streaming URLs (the kubelet's streaming server keeps the same kind of
// cache): 16 random bytes, base64url, valid for one minute and for one use. Pure apart from the
// random bytes; the clock is injectable so tests need not wait.

/** How long a streaming URL stays valid (the kubelet's default). */
export const TOKEN_TTL_MS = 60_000;

/** Most requests waiting for their client at once; beyond it, Exec/PortForward fail. */
export const MAX_PENDING_TOKENS = 1000;

export interface TokenCacheOptions {
  readonly ttlMs?: number;
  readonly maxPending?: number;
  /** Milliseconds now; Date.now by default. */
  readonly now?: () => number;
  /** Bytes for a new token; crypto.randomBytes by default. */
  readonly random?: (size: number) => Buffer;
}

export class TokenCache<T> {
  private readonly entries = new Map<string, { readonly value: T; readonly expiresAt: number }>();
  private readonly ttlMs: number;
  private readonly maxPending: number;
  private readonly now: () => number;
  private readonly random: (size: number) => Buffer;

  constructor(options: TokenCacheOptions = {}) {
    this.ttlMs = options.ttlMs ?? TOKEN_TTL_MS;
    this.maxPending = options.maxPending ?? MAX_PENDING_TOKENS;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? randomBytes;
  }

  /** Stores `value` under a new token and answers the token. */
  insert(value: T): string {
    this.evictExpired();
    if (this.entries.size >= this.maxPending) {
      throw new ResourceExhaustedError(`too many streaming requests are waiting for their client (${this.maxPending}); try again later`);
    }
    for (;;) {
      const token = this.random(16).toString('base64url');
      if (this.entries.has(token)) continue;
      this.entries.set(token, { value, expiresAt: this.now() + this.ttlMs });
      return token;
    }
  }

  /** The value of a live token, removing it (a token works once); undefined when unknown, used or expired. */
  consume(token: string): T | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    this.entries.delete(token);
    return this.now() < entry.expiresAt ? entry.value : undefined;
  }

  /** True while a token is live, without using it. */
  has(token: string): boolean {
    const entry = this.entries.get(token);
    return entry !== undefined && this.now() < entry.expiresAt;
  }

  get size(): number {
    this.evictExpired();
    return this.entries.size;
  }

  private evictExpired(): void {
    const now = this.now();
    for (const [token, entry] of this.entries) if (now >= entry.expiresAt) this.entries.delete(token);
  }
}
