/** What a decision says about one version: allowed or hidden, and every check that led there. */
import type { AuditNote } from '../verify/audits.js';

export type CheckName = 'integrity' | 'registry-signature' | 'release-age' | 'tarball-origin' | 'tamper' | 'audits' | 'publisher-signature' | 'violation';

/** Bounded set of reasons; they are metric labels (`countersign_versions_hidden_total{reason}`). */
export type HideReason =
  | 'integrity'
  | 'signature-missing'
  | 'signature-invalid'
  | 'signature-unknown-key'
  | 'signature-expired-key'
  | 'signature-no-keys'
  | 'release-age'
  | 'tarball-origin'
  | 'tampered'
  | 'malformed'
  | 'no-rule'
  | 'audits'
  | 'publisher-signature'
  | 'violation';

export interface CheckOutcome {
  readonly check: CheckName;
  readonly ok: boolean;
  /** Set when the check failed. */
  readonly reason?: HideReason;
  /** One line for people: what was checked and what was found. */
  readonly detail: string;
  /** When a failing check will pass by itself (release age), in ms since the epoch. */
  readonly eligibleAt?: number;
  /** When a passing check stops passing by itself (a baseline exemption ends), in ms since the epoch. */
  readonly expiresAt?: number;
  /** `audits`: every audit of the version, counted or not and why. */
  readonly audits?: readonly AuditNote[];
  /** `audits`: distinct principals counted, and how many the rule requires. */
  readonly counted?: number;
  readonly required?: number;
}

export interface Decision {
  /** The version is served (also true for `onViolation: warn` violations). */
  readonly allowed: boolean;
  /** The policy was violated but `onViolation: warn` let the version through. */
  readonly warned: boolean;
  /** Why the version fails the policy; empty when it passes. */
  readonly reasons: readonly HideReason[];
  readonly checks: readonly CheckOutcome[];
  /** One line a person can act on. */
  readonly summary: string;
  /** The decision may change at this time without any other input changing (ms since the epoch). */
  readonly revisitAt: number | undefined;
}
