import type { DemandDelta } from './store/queue-table.js';

interface Pending {
  name: string;
  version: string;
  sha512: string | undefined;
  reasons: readonly string[];
  requests: number;
  clients: Set<string>;
  firstAsked: number;
  lastAsked: number;
}

/** Pending versions kept between flushes; beyond this, new ones wait for the next flush. */
const MAX_PENDING = 10_000;
/** Distinct clients kept per version between flushes. */
const MAX_PENDING_CLIENTS = 1_000;

/**
 * Demand for hidden versions, gathered in memory and flushed to the queue table in batches, so
 * that a burst of requests for a hidden version costs one transaction, not one fsync each.
 */
export class DemandBuffer {
  readonly #pending = new Map<string, Pending>();

  record(name: string, version: string, sha512: string | undefined, reasons: readonly string[], client: string, now: number): void {
    const key = `${name}\0${version}`;
    let p = this.#pending.get(key);
    if (!p) {
      if (this.#pending.size >= MAX_PENDING) return;
      this.#pending.set(key, (p = { name, version, sha512, reasons, requests: 0, clients: new Set(), firstAsked: now, lastAsked: now }));
    }
    p.requests++;
    p.sha512 = sha512;
    p.reasons = reasons;
    p.lastAsked = Math.max(p.lastAsked, now);
    if (p.clients.size < MAX_PENDING_CLIENTS) p.clients.add(client);
  }

  get size(): number {
    return this.#pending.size;
  }

  /** Everything pending, emptying the buffer. */
  drain(): DemandDelta[] {
    const out = [...this.#pending.values()];
    this.#pending.clear();
    return out;
  }
}
