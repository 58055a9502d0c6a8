import type { TrustSnapshot } from './trust-index.js';
import type { AuditRecord, ExemptionRecord, KeyRecord, PublishRecord, RevocationState } from './types.js';

/**
 * Everything the trust store knows that bears on one package's versions, as plain data: the
 * documents about the package, the keys that signed them with their revocations, the baseline
 * exemptions, and the policy's key-validity cap. Decisions are pure functions of this.
 */
export interface PackageEvidence {
  readonly name: string;
  /** Every audit of the package, all versions (delta chains run through other versions). */
  readonly audits: readonly AuditRecord[];
  readonly publishes: readonly PublishRecord[];
  readonly exemptions: readonly ExemptionRecord[];
  readonly keys: ReadonlyMap<string, KeyRecord>;
  readonly revocations: ReadonlyMap<string, RevocationState>;
  /** `trust.maxKeyValidity`: a key counts for at most this long after its notBefore. */
  readonly maxKeyValidityMs: number;
}

export function emptyEvidence(name: string, maxKeyValidityMs = Number.MAX_SAFE_INTEGER): PackageEvidence {
  return { name, audits: [], publishes: [], exemptions: [], keys: new Map(), revocations: new Map(), maxKeyValidityMs };
}

/** Collects the evidence about `name` from a snapshot. Pure: reads, never writes. */
export function collectEvidence(snapshot: TrustSnapshot, name: string, maxKeyValidityMs: number): PackageEvidence {
  const audits = snapshot.audits(name);
  const publishes = snapshot.publishes(name);
  const keys = new Map<string, KeyRecord>();
  const revocations = new Map<string, RevocationState>();
  for (const { keyid } of [...audits, ...publishes]) {
    if (keys.has(keyid)) continue;
    const key = snapshot.key(keyid);
    if (key) keys.set(keyid, key);
    const revocation = snapshot.revocation(keyid);
    if (revocation) revocations.set(keyid, revocation);
  }
  return { name, audits, publishes, exemptions: snapshot.exemptions(name), keys, revocations, maxKeyValidityMs };
}
