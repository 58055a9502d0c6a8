import type { VersionFacts } from '../registry/types.js';
import { emptyEvidence, type PackageEvidence } from '../trust/evidence.js';
import { auditsCheck } from '../verify/audits.js';
import { integrityFormatCheck } from '../verify/integrity.js';
import { publisherSignatureCheck } from '../verify/publisher-signature.js';
import { releaseAgeCheck } from '../verify/release-age.js';
import type { SignatureStatus, SignatureVerdict } from '../verify/types.js';
import { violationCheck } from '../verify/violation.js';
import type { CheckOutcome, Decision, HideReason } from './decision.js';
import type { AuditRequirement, RequireSet, SignatureMode, VerifyRule } from './types.js';

/**
 * Everything a decision depends on besides the rule. Signature verification is cryptography done
 * beforehand (possibly on other threads); its verdict is a fact here, so `decide` stays pure.
 */
export interface DecisionInput {
  readonly facts: VersionFacts;
  readonly signature: SignatureVerdict;
  /** `dist.tarball` is on the origin of an upstream this version's tarball may come from. */
  readonly tarballOriginAllowed: boolean;
  /** Why not, when the caller knows better than "not on a configured upstream". */
  readonly tarballOriginDetail?: string;
  /** A download of this exact integrity already failed verification. */
  readonly tampered: boolean;
  readonly now: number;
  /** What the trust store knows about the package (audits, publisher signatures, keys, exemptions); none when absent. */
  readonly trust?: PackageEvidence;
}

const SIGNATURE_REASON: Record<Exclude<SignatureStatus, 'valid'>, HideReason> = {
  missing: 'signature-missing',
  invalid: 'signature-invalid',
  'unknown-key': 'signature-unknown-key',
  'expired-key': 'signature-expired-key',
  'no-keys': 'signature-no-keys',
};

function signatureOutcome(mode: SignatureMode, verdict: SignatureVerdict): CheckOutcome | undefined {
  if (mode === 'off') return undefined;
  const { status } = verdict;
  if (status === 'valid') return { check: 'registry-signature', ok: true, detail: verdict.detail };
  // `ifPresent` accepts what cannot be checked (no signature, no keys), never what fails to check.
  if (mode === 'ifPresent' && (status === 'missing' || status === 'no-keys')) {
    return { check: 'registry-signature', ok: true, detail: `${verdict.detail} (accepted: registrySignature is ifPresent)` };
  }
  return { check: 'registry-signature', ok: false, reason: SIGNATURE_REASON[status], detail: verdict.detail };
}

function auditsOutcome(req: AuditRequirement, input: DecisionInput, honorExemptions: boolean): CheckOutcome {
  const r = auditsCheck(req, evidenceOf(input), input.facts, honorExemptions, input.now);
  return {
    check: 'audits',
    ok: r.ok,
    detail: r.detail,
    audits: r.notes,
    counted: r.counted.length,
    required: r.required,
    ...(r.ok ? {} : { reason: 'audits' as const }),
    ...(r.exemptUntil !== undefined ? { expiresAt: r.exemptUntil } : {}),
  };
}

function publisherOutcome(mode: SignatureMode, input: DecisionInput): CheckOutcome | undefined {
  if (mode === 'off') return undefined;
  const r = publisherSignatureCheck(mode, evidenceOf(input), input.facts);
  return { check: 'publisher-signature', ok: r.ok, detail: r.detail, ...(r.ok ? {} : { reason: 'publisher-signature' as const }) };
}

function evidenceOf(input: DecisionInput): PackageEvidence {
  return input.trust ?? emptyEvidence(input.facts.name);
}

function evaluateSet(set: RequireSet, input: DecisionInput, honorExemptions: boolean): CheckOutcome[] {
  const outcomes: CheckOutcome[] = [];
  if (set.integrity !== undefined) {
    const r = integrityFormatCheck(input.facts, set.integrity);
    outcomes.push(r.ok ? { check: 'integrity', ok: true, detail: r.detail } : { check: 'integrity', ok: false, reason: 'integrity', detail: r.detail });
  }
  if (set.registrySignature !== undefined) {
    const outcome = signatureOutcome(set.registrySignature, input.signature);
    if (outcome) outcomes.push(outcome);
  }
  if (set.minReleaseAgeMs !== undefined && set.minReleaseAgeMs > 0) {
    const r = releaseAgeCheck(input.facts.publishedAt, set.minReleaseAgeMs, input.now);
    outcomes.push({
      check: 'release-age',
      ok: r.ok,
      detail: r.detail,
      ...(r.ok ? {} : { reason: 'release-age' as const }),
      ...(!r.ok && r.eligibleAt !== undefined ? { eligibleAt: r.eligibleAt } : {}),
    });
  }
  if (set.audits !== undefined) outcomes.push(auditsOutcome(set.audits, input, set.exemptions ?? honorExemptions));
  if (set.publisherSignature !== undefined) {
    const outcome = publisherOutcome(set.publisherSignature, input);
    if (outcome) outcomes.push(outcome);
  }
  return outcomes;
}

function unconditional(input: DecisionInput): CheckOutcome[] {
  const { facts } = input;
  const outcomes: CheckOutcome[] = [];
  if (input.tampered) {
    outcomes.push({ check: 'tamper', ok: false, reason: 'tampered', detail: 'its tarball failed integrity verification when countersign downloaded it' });
  }
  if (!input.tarballOriginAllowed) {
    const where = input.tarballOriginDetail
      ?? (facts.tarball === undefined ? 'it has no dist.tarball' : `dist.tarball is not on a configured upstream (${originOf(facts.tarball)})`);
    outcomes.push({ check: 'tarball-origin', ok: false, reason: 'tarball-origin', detail: where });
  }
  const violation = violationCheck(evidenceOf(input), facts);
  if (violation.vetoed) outcomes.push({ check: 'violation', ok: false, reason: 'violation', detail: violation.detail });
  return outcomes;
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'not a URL';
  }
}

const allOk = (outcomes: readonly CheckOutcome[]): boolean => outcomes.every((o) => o.ok);

/** The earliest time at which a time-bound check changes on its own: a failing one passes, a passing one expires. */
function earliest(outcomes: readonly CheckOutcome[]): number | undefined {
  let at: number | undefined;
  for (const o of outcomes) {
    const changes = o.ok ? o.expiresAt : o.eligibleAt;
    if (changes !== undefined && (at === undefined || changes < at)) at = changes;
  }
  return at;
}

/** Rules are few and frozen: the text of each rule's `match` list, joined once. */
const matchTexts = new WeakMap<VerifyRule, string>();

function matchText(rule: VerifyRule): string {
  let text = matchTexts.get(rule);
  if (text === undefined) {
    text = rule.match.join(', ');
    matchTexts.set(rule, text);
  }
  return text;
}

/** Applies a verify rule to one version. Pure: same input, same decision. */
export function decide(rule: VerifyRule, input: DecisionInput): Decision {
  const honorExemptions = rule.require.base.exemptions ?? true;
  const base = unconditional(input);
  for (const outcome of evaluateSet(rule.require.base, input, honorExemptions)) base.push(outcome);
  const alternatives = rule.require.anyOf.map((set) => evaluateSet(set, input, honorExemptions));
  const anyOfPassed = alternatives.length === 0 || alternatives.some(allOk);

  // Written as loops: this runs once per version of every packument computed (3,500 for typescript).
  const failures: CheckOutcome[] = [];
  for (const o of base) if (!o.ok) failures.push(o);
  if (!anyOfPassed) for (const outcomes of alternatives) for (const o of outcomes) if (!o.ok) failures.push(o);
  const checks = alternatives.length === 0 ? base : [...base, ...alternatives.flat()];
  const reasons: HideReason[] = [];
  for (const f of failures) if (!reasons.includes(f.reason!)) reasons.push(f.reason!);
  const violated = failures.length > 0;
  // A violation audit never fails open, not even under onViolation: warn (DESIGN §3).
  const vetoed = reasons.includes('violation');
  const warned = violated && !vetoed && rule.onViolation === 'warn';

  // Recompute no later than when the first time-bound check would pass on its own; recomputing
  // early is harmless, recomputing late would hide a version for too long.
  const revisitAt = earliest(checks);

  const summary = violated
    ? `${input.facts.name}@${input.facts.version} fails rule ${rule.index} (${matchText(rule)}): ${failures.map((f) => f.detail).join('; ')}`
    : `${input.facts.name}@${input.facts.version} passes rule ${rule.index} (${matchText(rule)})`;

  return { allowed: !violated || warned, warned, reasons, checks, summary, revisitAt };
}
