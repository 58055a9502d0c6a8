import { formatDuration } from './duration.js';
import type { CheckResult } from './types.js';

export { parseDuration } from './duration.js';

/** Why a version is still in quarantine, as `CheckResult.reason`. */
export type ReleaseAgeReason = 'too-recent' | 'unknown-publish-time';

export interface ReleaseAgeResult extends CheckResult {
  /** When the version becomes (or became) old enough: publishedAt + minAgeMs. Caches use it to know when the answer changes. */
  readonly eligibleAt?: number;
}

/**
 * Release-age quarantine (DESIGN §3): `now - publishedAt >= minAgeMs`. A minimum of 0 always
 * passes; otherwise an unknown publish time fails closed, since it cannot prove the version is old.
 */
export function releaseAgeCheck(publishedAt: number | undefined, minAgeMs: number, now: number): ReleaseAgeResult {
  if (!Number.isFinite(minAgeMs) || minAgeMs < 0) throw new RangeError(`minAgeMs must be a finite number >= 0, got ${minAgeMs}`);
  if (minAgeMs === 0) return { ok: true, detail: 'no minimum release age' };
  if (publishedAt === undefined || !Number.isFinite(publishedAt)) {
    return {
      ok: false,
      reason: 'unknown-publish-time',
      detail: `the packument has no publish time for this version, so it cannot be shown to be ${formatDuration(minAgeMs)} old`,
    };
  }
  const eligibleAt = publishedAt + minAgeMs;
  // A publish time ahead of our clock (skew, or a forged `time`) just makes the wait longer.
  const age = now >= publishedAt ? `${formatDuration(now - publishedAt)} ago` : `in the future (${new Date(publishedAt).toISOString()})`;
  if (now >= eligibleAt) return { ok: true, eligibleAt, detail: `published ${age} (minimum ${formatDuration(minAgeMs)})` };
  return {
    ok: false,
    reason: 'too-recent',
    eligibleAt,
    detail: `published ${age}; the minimum release age is ${formatDuration(minAgeMs)}, so it is allowed from ${new Date(eligibleAt).toISOString()}`,
  };
}
