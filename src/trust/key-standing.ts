import { compileGlob, type NameMatcher } from '../policy/glob.js';
import { iso } from './time.js';
import type { KeyRecord, RevocationState, Role } from './types.js';

/** Whether a signature by a key counts, judged at the trusted time it was first seen. */
export type Standing = { readonly ok: true } | { readonly ok: false; readonly why: string };

/** What the signature is used for: a role, on a package, seen at a trusted time. */
export interface KeyUse {
  readonly role: Role;
  readonly name: string;
  readonly seenAt: number;
}

const OK: Standing = Object.freeze({ ok: true });
const matchers = new Map<string, NameMatcher>();

function matcher(glob: string): NameMatcher {
  let m = matchers.get(glob);
  if (!m) matchers.set(glob, (m = compileGlob(glob)));
  return m;
}

export function shortKeyid(keyid: string): string {
  return `${keyid.slice(0, 'ed25519:'.length + 12)}…`;
}

/** The end of a key's validity: its notAfter, capped by the policy's maxKeyValidity. */
export function effectiveNotAfter(key: KeyRecord, maxKeyValidityMs: number): number {
  return Math.min(key.notAfter, key.notBefore + maxKeyValidityMs);
}

/**
 * Every rule a key must satisfy for one signature to count: enrolled, holding the role, for a
 * package inside its globs, inside its validity window (capped by maxKeyValidity), and not void
 * by a revocation (everything seen at or after `compromisedSince`, or everything if absent).
 */
export function signatureStanding(key: KeyRecord | undefined, revocation: RevocationState | undefined, use: KeyUse, maxKeyValidityMs: number, keyid = key?.keyid ?? ''): Standing {
  if (!key) return { ok: false, why: `signed by ${shortKeyid(keyid)}, which is not enrolled` };
  if (!key.roles.includes(use.role)) return { ok: false, why: `the key of ${key.principal} is not enrolled for the ${use.role} role (roles: ${key.roles.join(', ')})` };
  if (!key.packages.some((glob) => matcher(glob)(use.name))) {
    return { ok: false, why: `${use.name} is outside the packages the key of ${key.principal} may act on (${key.packages.join(', ')})` };
  }
  if (use.seenAt < key.notBefore) return { ok: false, why: `first seen ${iso(use.seenAt)}, before the key of ${key.principal} became valid (notBefore ${iso(key.notBefore)})` };
  const end = effectiveNotAfter(key, maxKeyValidityMs);
  if (use.seenAt >= end) {
    const capped = end < key.notAfter ? ' (capped by trust.maxKeyValidity)' : '';
    return { ok: false, why: `first seen ${iso(use.seenAt)}, after the key of ${key.principal} expired (${iso(end)}${capped})` };
  }
  if (revocation && use.seenAt >= revocation.voidFrom) {
    const since = Number.isFinite(revocation.voidFrom) ? `signatures seen from ${iso(revocation.voidFrom)} on are void` : 'all its signatures are void';
    return { ok: false, why: `the key of ${key.principal} is revoked (${revocation.reasons.join('; ')}): ${since}` };
  }
  return OK;
}
