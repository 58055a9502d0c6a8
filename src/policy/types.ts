import type { TrustLevel } from '../trust/types.js';
import type { NameMatcher } from './glob.js';

export type IntegrityMode = 'sha512' | 'any';
export type SignatureMode = 'required' | 'ifPresent' | 'off';
export type ViolationMode = 'hide' | 'warn';

/** `require.audits`: enough valid audits of this exact sha512 by distinct trusted principals. */
export interface AuditRequirement {
  /** Distinct principals whose audits must count. */
  readonly min: number;
  /** Every one of these must be covered by an audit's criteria (`safe-to-deploy` implies `safe-to-run`). */
  readonly criteria: readonly string[];
  /** Audits by keys below this trust level do not count. */
  readonly minTrust: TrustLevel;
  /** When set, only audits by these principals (and those in `allOf`) count. */
  readonly auditors: readonly string[] | undefined;
  /** Each of these principals must have a counted audit. */
  readonly allOf: readonly string[];
}

/** One set of requirements; every key present must pass. */
export interface RequireSet {
  readonly integrity?: IntegrityMode;
  readonly registrySignature?: SignatureMode;
  /** 0 = off. */
  readonly minReleaseAgeMs?: number;
  readonly audits?: AuditRequirement;
  /** An Ed25519 publish document by a key enrolled for the package, over its sha512. */
  readonly publisherSignature?: SignatureMode;
  /** Unexpired baseline exemptions satisfy `audits` in this set (default true). */
  readonly exemptions?: boolean;
}

/** The checks every verify rule has, after defaults are merged. */
export type BaseRequireSet = RequireSet & Required<Pick<RequireSet, 'integrity' | 'registrySignature' | 'minReleaseAgeMs'>>;

/** A verify rule's requirements: all of `base`, and one of `anyOf` when it is not empty. */
export interface Requirement {
  readonly base: BaseRequireSet;
  readonly anyOf: readonly RequireSet[];
}

interface RuleCommon {
  /** Position in the config's `rules`, for messages ("rules[2]"). */
  readonly index: number;
  readonly match: readonly string[];
  readonly matches: NameMatcher;
  readonly upstream: string;
}

export interface VerifyRule extends RuleCommon {
  readonly mode: 'verify';
  readonly require: Requirement;
  readonly onViolation: ViolationMode;
}

export interface FastRule extends RuleCommon {
  readonly mode: 'fast';
  readonly forwardAuth: boolean;
}

export type Rule = VerifyRule | FastRule;

export interface CompiledPolicy {
  readonly rules: readonly Rule[];
  /** Short hash of the compiled rules; part of every cached decision's key. */
  readonly hash: string;
  /** First rule whose globs match the name, or undefined. */
  ruleFor(name: string): Rule | undefined;
}
