import type { NameMatcher } from './glob.js';

export type IntegrityMode = 'sha512' | 'any';
export type SignatureMode = 'required' | 'ifPresent' | 'off';
export type ViolationMode = 'hide' | 'warn';

/** One set of requirements; every key present must pass. */
export interface RequireSet {
  readonly integrity?: IntegrityMode;
  readonly registrySignature?: SignatureMode;
  /** 0 = off. */
  readonly minReleaseAgeMs?: number;
}

/** A verify rule's requirements: all of `base`, and one of `anyOf` when it is not empty. */
export interface Requirement {
  readonly base: Required<RequireSet>;
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
