import semver from 'semver';
import type { PackageEvidence } from './evidence.js';
import { signatureStanding } from './key-standing.js';

export interface AuditedVersion {
  readonly version: string;
  readonly sha512: string;
  readonly principals: readonly string[];
}

/**
 * The audited version of the same package closest to `version` (the smallest diff to review):
 * the highest audited version below it, else the lowest above it. "Audited" means a full or
 * delta audit by a key in good standing; a version with a standing violation report is skipped.
 */
export function nearestAuditedVersion(evidence: PackageEvidence, version: string): AuditedVersion | undefined {
  const audited = new Map<string, { version: string; sha512: string; principals: Set<string> }>();
  const vetoed = new Set<string>();
  for (const a of evidence.audits) {
    if (a.version === version) continue;
    const key = evidence.keys.get(a.keyid);
    const standing = signatureStanding(key, evidence.revocations.get(a.keyid), { role: 'audit', name: a.name, seenAt: a.seenAt }, evidence.maxKeyValidityMs, a.keyid);
    if (!standing.ok) continue;
    if (a.kind === 'violation') {
      vetoed.add(a.version);
      continue;
    }
    const id = `${a.version}\0${a.sha512}`;
    let entry = audited.get(id);
    if (!entry) audited.set(id, (entry = { version: a.version, sha512: a.sha512, principals: new Set() }));
    entry.principals.add(key!.principal);
  }
  const candidates = [...audited.values()].filter((c) => !vetoed.has(c.version) && semver.valid(c.version) !== null);
  if (candidates.length === 0 || semver.valid(version) === null) return undefined;
  const below = candidates.filter((c) => semver.lt(c.version, version)).sort((a, b) => semver.rcompare(a.version, b.version));
  const above = candidates.filter((c) => semver.gt(c.version, version)).sort((a, b) => semver.compare(a.version, b.version));
  const best = below[0] ?? above[0];
  return best && { version: best.version, sha512: best.sha512, principals: [...best.principals] };
}
