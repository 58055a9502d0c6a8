import type { VersionFacts } from '../registry/types.js';
import type { PackageEvidence } from '../trust/evidence.js';
import { signatureStanding } from '../trust/key-standing.js';

export interface ViolationResult {
  readonly vetoed: boolean;
  readonly detail: string;
  /** Principals whose violation audits stand. */
  readonly by: readonly string[];
}

/**
 * A violation audit by a key in good standing for the package hides the version whatever else
 * holds. It applies to the version, whatever digest it names: a report that a version is
 * malicious is not waved away because the registry now serves other bytes under that version.
 */
export function violationCheck(evidence: PackageEvidence, facts: VersionFacts): ViolationResult {
  const by: string[] = [];
  const notes: string[] = [];
  for (const a of evidence.audits) {
    if (a.kind !== 'violation' || a.version !== facts.version) continue;
    const key = evidence.keys.get(a.keyid);
    const standing = signatureStanding(key, evidence.revocations.get(a.keyid), { role: 'audit', name: a.name, seenAt: a.seenAt }, evidence.maxKeyValidityMs, a.keyid);
    if (!standing.ok || by.includes(key!.principal)) continue;
    by.push(key!.principal);
    const criteria = a.criteria.length > 0 ? ` (${a.criteria.join(', ')})` : '';
    notes.push(`${key!.principal} reported a violation${criteria}${a.notes ? `: ${a.notes.slice(0, 200)}` : ''}`);
  }
  if (by.length === 0) return { vetoed: false, detail: 'no violation reported', by };
  return { vetoed: true, detail: notes.join('; '), by };
}
