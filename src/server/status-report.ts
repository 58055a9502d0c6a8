import type { CheckOutcome, Decision } from '../policy/decision.js';
import type { VerifyRule } from '../policy/types.js';
import type { VersionFacts } from '../registry/types.js';
import type { AuditedVersion } from '../trust/nearest.js';
import { iso } from '../trust/time.js';

function when(ms: number | undefined): string | undefined {
  return ms === undefined || !Number.isFinite(ms) ? undefined : iso(ms);
}

function checkJson(c: CheckOutcome): Record<string, unknown> {
  return {
    check: c.check,
    ok: c.ok,
    ...(c.reason ? { reason: c.reason } : {}),
    detail: c.detail,
    ...(c.eligibleAt !== undefined && !c.ok ? { eligibleAt: when(c.eligibleAt) } : {}),
    ...(c.expiresAt !== undefined ? { expiresAt: when(c.expiresAt) } : {}),
    ...(c.required !== undefined ? { counted: c.counted ?? 0, required: c.required } : {}),
    ...(c.audits
      ? {
          audits: c.audits.map((a) => ({
            principal: a.principal ?? null,
            keyid: a.keyid,
            kind: a.kind,
            criteria: a.criteria,
            seenAt: when(a.seenAt),
            counted: a.counted,
            why: a.why,
          })),
        }
      : {}),
  };
}

/** The JSON of `GET /-/countersign/v1/status/:name/:version`: the decision, check by check. */
export function statusReport(rule: VerifyRule, facts: VersionFacts, decision: Decision, nearest: AuditedVersion | undefined): Record<string, unknown> {
  return {
    name: facts.name,
    version: facts.version,
    integrity: facts.integrity ?? null,
    sha512: facts.sha512 ?? null,
    publishedAt: when(facts.publishedAt) ?? null,
    rule: { index: rule.index, match: rule.match, onViolation: rule.onViolation },
    allowed: decision.allowed,
    warned: decision.warned,
    reasons: decision.reasons,
    summary: decision.summary,
    ...(decision.revisitAt !== undefined ? { revisitAt: when(decision.revisitAt) } : {}),
    checks: decision.checks.map(checkJson),
    ...(!decision.allowed ? { nearestAudited: nearest ?? null } : {}),
  };
}
