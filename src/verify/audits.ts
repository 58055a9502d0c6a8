import type { AuditRequirement } from '../policy/types.js';
import type { VersionFacts } from '../registry/types.js';
import type { PackageEvidence } from '../trust/evidence.js';
import { shortKeyid, signatureStanding } from '../trust/key-standing.js';
import { iso } from '../trust/time.js';
import { TRUST_RANK, type AuditKind, type AuditRecord, type VersionRef } from '../trust/types.js';
import { criteriaSatisfied } from './criteria.js';

/** One audit of the version, whether it counted, and why (status pages show each). */
export interface AuditNote {
  readonly principal: string | undefined;
  readonly keyid: string;
  readonly kind: AuditKind;
  readonly criteria: readonly string[];
  readonly seenAt: number;
  readonly counted: boolean;
  readonly why: string;
}

export interface AuditsResult {
  readonly ok: boolean;
  /** Principals whose audits counted, in the order they were first seen. */
  readonly counted: readonly string[];
  readonly required: number;
  readonly detail: string;
  readonly notes: readonly AuditNote[];
  /** Passing only thanks to a baseline exemption that ends at this time. */
  readonly exemptUntil?: number;
}

/** Delta chains longer than this are not followed. */
const MAX_CHAIN = 64;

type Why = { ok: true } | { ok: false; why: string };

function short(hex: string): string {
  return `${hex.slice(0, 12)}…`;
}

/** Key standing, trust level and criteria: what every audit in a chain must satisfy. */
function linkStanding(a: AuditRecord, req: AuditRequirement, evidence: PackageEvidence): Why {
  const key = evidence.keys.get(a.keyid);
  const standing = signatureStanding(key, evidence.revocations.get(a.keyid), { role: 'audit', name: a.name, seenAt: a.seenAt }, evidence.maxKeyValidityMs, a.keyid);
  if (!standing.ok) return standing;
  if (TRUST_RANK[key!.trust] < TRUST_RANK[req.minTrust]) return { ok: false, why: `the key of ${key!.principal} has trust ${key!.trust}, below minTrust ${req.minTrust}` };
  if (!criteriaSatisfied(req.criteria, a.criteria)) return { ok: false, why: `its criteria (${a.criteria.join(', ')}) do not cover ${req.criteria.join(', ')}` };
  return { ok: true };
}

/** True when a valid full audit of `ref` exists, directly or through valid delta audits. */
function reachesFullAudit(ref: VersionRef, req: AuditRequirement, evidence: PackageEvidence, visited: Set<string>, depth: number): boolean {
  const id = `${ref.version}\0${ref.sha512}`;
  if (depth > MAX_CHAIN || visited.has(id)) return false;
  visited.add(id);
  for (const a of evidence.audits) {
    if (a.version !== ref.version || a.sha512 !== ref.sha512 || a.kind === 'violation') continue;
    if (!linkStanding(a, req, evidence).ok) continue;
    if (a.kind === 'full') return true;
    if (a.from && reachesFullAudit(a.from, req, evidence, visited, depth + 1)) return true;
  }
  return false;
}

function judge(a: AuditRecord, req: AuditRequirement, evidence: PackageEvidence, facts: VersionFacts): Why {
  if (facts.sha512 === undefined) return { ok: false, why: 'the version publishes no sha512 to match audits against' };
  if (a.sha512 !== facts.sha512) return { ok: false, why: `it audits another digest (sha512 ${short(a.sha512)}, the registry serves ${short(facts.sha512)})` };
  const link = linkStanding(a, req, evidence);
  if (!link.ok) return link;
  const principal = evidence.keys.get(a.keyid)!.principal;
  if (req.auditors !== undefined && !req.auditors.includes(principal) && !req.allOf.includes(principal)) {
    return { ok: false, why: `${principal} is not among the auditors this rule accepts (${[...req.auditors, ...req.allOf].join(', ')})` };
  }
  if (a.kind === 'delta' && a.from && !reachesFullAudit(a.from, req, evidence, new Set(), 1)) {
    return { ok: false, why: `it is a delta from ${a.from.version} (sha512 ${short(a.from.sha512)}), whose chain does not reach a valid full audit` };
  }
  return { ok: true };
}

function requirementText(req: AuditRequirement): string {
  const parts = [req.criteria.join(', '), `trust ≥ ${req.minTrust}`];
  if (req.auditors) parts.push(`by ${[...req.auditors, ...req.allOf].join(' or ')}`);
  if (req.allOf.length > 0) parts.push(`including ${req.allOf.join(' and ')}`);
  return parts.join('; ');
}

/**
 * `require.audits` for one version: counts distinct principals with a valid audit of exactly this
 * sha512 (full, or delta whose chain reaches a full audit). When they fall short, an unexpired
 * baseline exemption for exactly this name@version+sha512 passes the check, if honoured.
 */
export function auditsCheck(req: AuditRequirement, evidence: PackageEvidence, facts: VersionFacts, honorExemptions: boolean, now: number): AuditsResult {
  const counted: string[] = [];
  const notes: AuditNote[] = [];
  for (const a of evidence.audits) {
    if (a.version !== facts.version || a.kind === 'violation') continue;
    const principal = evidence.keys.get(a.keyid)?.principal;
    const verdict = judge(a, req, evidence, facts);
    let counts = verdict.ok;
    let why = verdict.ok ? (a.kind === 'delta' ? `counts: delta from ${a.from!.version}, chained to a full audit` : 'counts') : verdict.why;
    if (counts && counted.includes(principal!)) {
      counts = false;
      why = `${principal} is already counted (one principal counts once, whatever its keys or audits)`;
    }
    if (counts) counted.push(principal!);
    notes.push({ principal, keyid: a.keyid, kind: a.kind, criteria: a.criteria, seenAt: a.seenAt, counted: counts, why });
  }
  const missing = req.allOf.filter((p) => !counted.includes(p));
  const ok = counted.length >= req.min && missing.length === 0;
  const tally = `${counted.length} of ${req.min} audits (${requirementText(req)})${counted.length > 0 ? `: ${counted.join(', ')}` : ''}`;
  if (ok) return { ok, counted, required: req.min, detail: tally, notes };

  const shortfall = [tally, ...(missing.length > 0 ? [`missing an audit by ${missing.join(', ')}`] : [])];
  const refused = notes.filter((n) => !n.counted);
  if (refused.length > 0) shortfall.push(`not counted: ${refused.slice(0, 3).map((n) => `${n.principal ?? shortKeyid(n.keyid)} (${n.why})`).join('; ')}${refused.length > 3 ? `; and ${refused.length - 3} more` : ''}`);
  if (honorExemptions && facts.sha512 !== undefined) {
    const exemptions = evidence.exemptions.filter((e) => e.version === facts.version && e.sha512 === facts.sha512);
    const live = exemptions.filter((e) => e.expiresAt > now);
    if (live.length > 0) {
      const until = Math.max(...live.map((e) => e.expiresAt));
      const source = live.find((e) => e.expiresAt === until)!.source;
      return { ok: true, counted, required: req.min, detail: `exempt by the baseline from ${source} until ${iso(until)} (${tally})`, notes, exemptUntil: until };
    }
    if (exemptions.length > 0) shortfall.push(`its baseline exemption expired ${iso(Math.max(...exemptions.map((e) => e.expiresAt)))}`);
  }
  return { ok: false, counted, required: req.min, detail: shortfall.join('; '), notes };
}
