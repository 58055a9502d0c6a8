import type { SignatureMode } from '../policy/types.js';
import type { VersionFacts } from '../registry/types.js';
import type { PackageEvidence } from '../trust/evidence.js';
import { signatureStanding } from '../trust/key-standing.js';

export interface PublisherResult {
  readonly ok: boolean;
  readonly detail: string;
}

/**
 * `publisherSignature`: an Ed25519 publish document for this name@version, over exactly this
 * sha512, by a key enrolled with the `publish` role for the package. `required` fails without
 * one; `ifPresent` accepts a version nobody signed, but never one whose only signatures are
 * invalid (another digest, a revoked or expired key).
 */
export function publisherSignatureCheck(mode: Exclude<SignatureMode, 'off'>, evidence: PackageEvidence, facts: VersionFacts): PublisherResult {
  const docs = evidence.publishes.filter((p) => p.version === facts.version);
  const problems: string[] = [];
  for (const p of docs) {
    const key = evidence.keys.get(p.keyid);
    const standing = signatureStanding(key, evidence.revocations.get(p.keyid), { role: 'publish', name: p.name, seenAt: p.seenAt }, evidence.maxKeyValidityMs, p.keyid);
    if (!standing.ok) problems.push(standing.why);
    else if (facts.sha512 === undefined || p.sha512 !== facts.sha512) problems.push(`${key!.principal} signed another digest (sha512 ${p.sha512.slice(0, 12)}…)`);
    else return { ok: true, detail: `signed by ${key!.principal} (publish key)` };
  }
  if (docs.length === 0) {
    return mode === 'ifPresent'
      ? { ok: true, detail: 'no publisher signature (accepted: publisherSignature is ifPresent)' }
      : { ok: false, detail: 'no publisher signature: the publisher must sign it (countersign sign) with a key enrolled for this package' };
  }
  return { ok: false, detail: `no valid publisher signature: ${problems.join('; ')}` };
}
