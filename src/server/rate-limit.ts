import { LRUCache } from 'lru-cache';

interface Bucket {
  tokens: number;
  at: number;
}

export type Take = { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number };

/**
 * A token bucket per client: `perMinute` tokens, refilled continuously, so a client may burst up
 * to `perMinute` and then sustain `perMinute` per minute. Bounded: the least recently seen
 * clients are forgotten first (they start again with a full bucket). `perMinute` 0 = unlimited.
 */
export class RateLimiter {
  readonly #perMinute: number;
  readonly #buckets: LRUCache<string, Bucket>;

  constructor(perMinute: number, maxClients = 10_000) {
    this.#perMinute = perMinute;
    this.#buckets = new LRUCache<string, Bucket>({ max: maxClients });
  }

  take(client: string, now: number, cost = 1): Take {
    if (this.#perMinute === 0) return { ok: true };
    const ratePerMs = this.#perMinute / 60_000;
    const bucket = this.#buckets.get(client) ?? { tokens: this.#perMinute, at: now };
    bucket.tokens = Math.min(this.#perMinute, bucket.tokens + Math.max(0, now - bucket.at) * ratePerMs);
    bucket.at = now;
    this.#buckets.set(client, bucket);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil((cost - bucket.tokens) / ratePerMs) };
  }
}
