import type { CheckOutcome, Decision } from '../policy/decision.js';
import type { BadgeColour } from './badge-svg.js';

export interface BadgeState {
  readonly message: string;
  readonly colour: BadgeColour;
}

function auditsOutcome(decision: Decision, passing: boolean): CheckOutcome | undefined {
  const outcomes = decision.checks.filter((c) => c.check === 'audits' && c.ok === passing);
  return outcomes.sort((a, b) => (b.counted ?? 0) - (a.counted ?? 0))[0];
}

/**
 * What a badge says about a decision: `violation` (red), `hidden` (red), `audited N of M` (green
 * when it passed, orange while audits are missing), `exempt` (yellow: allowed by a baseline, not
 * reviewed), `warning` (yellow: served under onViolation: warn), `verified` (green).
 */
export function badgeState(decision: Decision | undefined): BadgeState {
  if (!decision) return { message: 'unknown', colour: 'grey' };
  if (decision.reasons.includes('violation')) return { message: 'violation', colour: 'red' };
  if (decision.warned) return { message: 'warning', colour: 'yellow' };
  if (decision.allowed) {
    const audits = auditsOutcome(decision, true);
    if (audits?.expiresAt !== undefined) return { message: 'exempt', colour: 'yellow' };
    if (audits && (audits.counted ?? 0) > 0) return { message: `audited ${audits.counted} of ${audits.required}`, colour: 'green' };
    return { message: 'verified', colour: 'green' };
  }
  const missing = auditsOutcome(decision, false);
  if (missing && decision.reasons.every((r) => r === 'audits')) return { message: `audited ${missing.counted ?? 0} of ${missing.required}`, colour: 'orange' };
  return { message: 'hidden', colour: 'red' };
}
