/**
 * Audit criteria. Two are built in and ordered: `safe-to-deploy` (reviewed for use in production)
 * implies `safe-to-run` (reviewed for running on a developer machine or in CI). Others are plain
 * names that must match exactly.
 */
const IMPLIED: Readonly<Record<string, readonly string[]>> = {
  'safe-to-deploy': ['safe-to-run'],
};

export const DEFAULT_CRITERIA: readonly string[] = ['safe-to-deploy'];

/** True when the audit's criteria cover every required criterion. */
export function criteriaSatisfied(required: readonly string[], given: readonly string[]): boolean {
  return required.every((r) => given.includes(r) || given.some((g) => IMPLIED[g]?.includes(r) === true));
}
