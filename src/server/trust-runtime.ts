import type { IncomingMessage } from 'node:http';
import type { Config } from '../config/types.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { DecisionSummary } from './decision-table.js';
import type { VersionFacts } from '../registry/types.js';
import { DemandBuffer } from '../trust/demand.js';
import type { PackageEvidence } from '../trust/evidence.js';
import { TrustStore } from '../trust/trust-store.js';
import { clientHash } from './client-id.js';
import { RateLimiter } from './rate-limit.js';

/** How often entries written by another process (the CLI) are picked up, and demand is flushed. */
export const TRUST_TICK_MS = 1_000;

export interface TrustRuntimeOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now: () => number;
}

/**
 * The trust store as the server runs it: opened at start-up (a corrupt file stops the server),
 * polled for writes by other processes, demand for hidden versions buffered and flushed once a
 * second, and submissions rate-limited per client.
 */
export class TrustRuntime {
  readonly store: TrustStore;
  readonly limiter: RateLimiter;
  readonly #demand = new DemandBuffer();
  readonly #options: TrustRuntimeOptions;
  readonly #timer: NodeJS.Timeout;

  constructor(options: TrustRuntimeOptions) {
    this.#options = options;
    this.store = TrustStore.open({ dataDir: options.config.server.dataDir, trust: options.config.trust, now: options.now });
    this.limiter = new RateLimiter(options.config.trust.submissionsPerMinute);
    options.metrics.auditQueueDepth.set(this.store.queue.count());
    this.#timer = setInterval(() => this.tick(), TRUST_TICK_MS);
    this.#timer.unref();
    options.logger.info({ path: this.store.path, entries: this.store.size }, 'trust store open');
  }

  get isOpen(): boolean {
    return this.store.isOpen;
  }

  epochFor(name: string): string {
    return this.store.epochFor(name);
  }

  /** Entries applied so far: grows whenever any epochFor changes. */
  get changes(): number {
    return this.store.size;
  }

  evidence(name: string): PackageEvidence {
    return this.store.evidence(name);
  }

  /** A client asked for a hidden version: count it for the audit queue. */
  onHiddenRequested(name: string, version: string, decision: DecisionSummary, req: IncomingMessage, facts: VersionFacts | undefined): void {
    if (!this.store.isOpen) return;
    const client = clientHash(this.store.clientSalt, req, this.#options.config.server.trustProxy);
    this.#demand.record(name, version, facts?.sha512, decision.reasons, client, this.#options.now());
  }

  /** Writes buffered demand to the queue table and updates the queue-depth gauge. */
  flushDemand(): void {
    if (!this.store.isOpen) return;
    if (this.#demand.size > 0) this.store.queue.add(this.#demand.drain());
    this.#options.metrics.auditQueueDepth.set(this.store.queue.count());
  }

  tick(): void {
    try {
      if (!this.store.isOpen) return;
      const picked = this.store.refresh();
      if (picked > 0) this.#options.logger.info({ entries: picked }, 'trust store: picked up entries written by another process');
      this.flushDemand();
    } catch (err) {
      this.#options.logger.error({ err }, 'trust store: refresh failed');
    }
  }

  close(): void {
    clearInterval(this.#timer);
    try {
      this.flushDemand();
    } finally {
      this.store.close();
    }
  }
}
