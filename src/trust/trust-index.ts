import type { TrustEvent } from './events.js';
import type { AuditRecord, ExemptionRecord, KeyRecord, PublishRecord, RevocationState } from './types.js';

/** Read access to the trust state, as evaluators see it. */
export interface TrustSnapshot {
  key(keyid: string): KeyRecord | undefined;
  revocation(keyid: string): RevocationState | undefined;
  audits(name: string): readonly AuditRecord[];
  publishes(name: string): readonly PublishRecord[];
  exemptions(name: string): readonly ExemptionRecord[];
  keys(): Iterable<KeyRecord>;
  /** Names with at least one audit. */
  auditedNames(): Iterable<string>;
}

const NONE: readonly never[] = Object.freeze([]);

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * The trust state derived from the log, in memory: events are applied in log order. Epochs say
 * when a package's decisions may have changed: any key or revocation event changes every
 * package's epoch, a document or exemption changes its package's epoch.
 */
export class TrustIndex implements TrustSnapshot {
  readonly #keys = new Map<string, KeyRecord>();
  readonly #revocations = new Map<string, RevocationState>();
  readonly #audits = new Map<string, AuditRecord[]>();
  readonly #publishes = new Map<string, PublishRecord[]>();
  readonly #exemptions = new Map<string, ExemptionRecord[]>();
  readonly #nameEpochs = new Map<string, number>();
  #globalEpoch = 0;
  #count = 0;

  apply(event: TrustEvent): void {
    this.#count++;
    switch (event.kind) {
      case 'key':
        // The log refuses a second enrolment of a keyid; the first one stands if one slips through.
        if (!this.#keys.has(event.record.keyid)) this.#keys.set(event.record.keyid, event.record);
        this.#globalEpoch++;
        return;
      case 'revocation': {
        const r = event.record;
        const cutoff = Math.min(r.seenAt, r.compromisedSince ?? Number.NEGATIVE_INFINITY);
        const previous = this.#revocations.get(r.keyid);
        this.#revocations.set(r.keyid, {
          keyid: r.keyid,
          voidFrom: Math.min(previous?.voidFrom ?? Number.POSITIVE_INFINITY, cutoff),
          revokedAt: Math.min(previous?.revokedAt ?? Number.POSITIVE_INFINITY, r.seenAt),
          reasons: [...(previous?.reasons ?? []), `${r.by === 'self' ? 'self-revoked' : 'revoked by an admin'}: ${r.reason}`],
        });
        this.#globalEpoch++;
        return;
      }
      case 'audit':
        push(this.#audits, event.record.name, event.record);
        return this.#bump(event.record.name);
      case 'publish':
        push(this.#publishes, event.record.name, event.record);
        return this.#bump(event.record.name);
      case 'exemption':
        push(this.#exemptions, event.record.name, event.record);
        return this.#bump(event.record.name);
    }
  }

  #bump(name: string): void {
    this.#nameEpochs.set(name, (this.#nameEpochs.get(name) ?? 0) + 1);
  }

  /** Changes whenever a decision about `name` may change. */
  epochFor(name: string): string {
    return `${this.#globalEpoch}.${this.#nameEpochs.get(name) ?? 0}`;
  }

  /** Events applied so far. */
  get size(): number {
    return this.#count;
  }

  key(keyid: string): KeyRecord | undefined {
    return this.#keys.get(keyid);
  }

  revocation(keyid: string): RevocationState | undefined {
    return this.#revocations.get(keyid);
  }

  audits(name: string): readonly AuditRecord[] {
    return this.#audits.get(name) ?? NONE;
  }

  publishes(name: string): readonly PublishRecord[] {
    return this.#publishes.get(name) ?? NONE;
  }

  exemptions(name: string): readonly ExemptionRecord[] {
    return this.#exemptions.get(name) ?? NONE;
  }

  keys(): Iterable<KeyRecord> {
    return this.#keys.values();
  }

  auditedNames(): Iterable<string> {
    return this.#audits.keys();
  }
}
