import { createHash } from 'node:crypto';
import { parseDuration } from '../config/units.js';
import type { TrustLevel } from '../trust/types.js';
import { DEFAULT_CRITERIA } from '../verify/criteria.js';
import { compileGlobs } from './glob.js';
import type { AuditRequirement, BaseRequireSet, CompiledPolicy, FastRule, RequireSet, Requirement, Rule, VerifyRule, ViolationMode } from './types.js';

/** `require.audits` as written. */
export interface RawAudits {
  min?: number;
  criteria?: string | string[];
  minTrust?: TrustLevel;
  auditors?: string[];
  allOf?: string[];
}

/** The `require` / `anyOf` shape after schema validation (durations still as written). */
export interface RawRequireSet {
  integrity?: 'sha512' | 'any';
  registrySignature?: 'required' | 'ifPresent' | 'off';
  minReleaseAge?: string | number;
  audits?: RawAudits;
  publisherSignature?: 'required' | 'ifPresent' | 'off';
  exemptions?: boolean;
  anyOf?: RawRequireSet[];
}

export interface RawRule {
  match: string[];
  mode?: 'verify' | 'fast';
  upstream?: string;
  require?: RawRequireSet;
  onViolation?: ViolationMode;
  forwardAuth?: boolean;
}

export interface RawPolicy {
  defaults?: { require?: RawRequireSet; onViolation?: ViolationMode };
  rules: RawRule[];
}

/** A rule that refers to something that does not exist; the loader turns it into ECS_CONFIG_INVALID. */
export class PolicyError extends Error {
  constructor(readonly path: string, message: string) {
    super(message);
  }
}

/** Safe when the config says nothing: sha512 integrity and a valid registry signature. */
export const BUILTIN_REQUIRE: BaseRequireSet = Object.freeze({
  integrity: 'sha512',
  registrySignature: 'required',
  minReleaseAgeMs: 0,
});

/** Defaults: criteria safe-to-deploy, any trust level, any auditor, at least one (or as many as allOf names). */
function compileAudits(raw: RawAudits): AuditRequirement {
  const allOf = Object.freeze([...new Set(raw.allOf ?? [])]);
  const criteria = raw.criteria === undefined ? DEFAULT_CRITERIA : typeof raw.criteria === 'string' ? [raw.criteria] : raw.criteria;
  return Object.freeze({
    min: raw.min ?? Math.max(1, allOf.length),
    criteria: Object.freeze([...new Set(criteria)]),
    minTrust: raw.minTrust ?? 'low',
    auditors: raw.auditors === undefined ? undefined : Object.freeze([...new Set(raw.auditors)]),
    allOf,
  });
}

function compileSet(raw: RawRequireSet): RequireSet {
  const set: { -readonly [K in keyof RequireSet]: RequireSet[K] } = {};
  if (raw.integrity !== undefined) set.integrity = raw.integrity;
  if (raw.registrySignature !== undefined) set.registrySignature = raw.registrySignature;
  if (raw.minReleaseAge !== undefined) set.minReleaseAgeMs = parseDuration(raw.minReleaseAge);
  if (raw.audits !== undefined) set.audits = compileAudits(raw.audits);
  if (raw.publisherSignature !== undefined) set.publisherSignature = raw.publisherSignature;
  if (raw.exemptions !== undefined) set.exemptions = raw.exemptions;
  return set;
}

function compileRequirement(rule: RawRequireSet | undefined, defaults: RawRequireSet | undefined): Requirement {
  const base = { ...BUILTIN_REQUIRE, ...compileSet(defaults ?? {}), ...compileSet(rule ?? {}) };
  const anyOf = rule?.anyOf ?? defaults?.anyOf ?? [];
  return { base, anyOf: anyOf.map(compileSet) };
}

export function compilePolicy(raw: RawPolicy, upstreamNames: readonly string[]): CompiledPolicy {
  const firstUpstream = upstreamNames[0];
  if (firstUpstream === undefined) throw new PolicyError('upstreams', 'at least one upstream is required');
  const rules: Rule[] = raw.rules.map((r, index): Rule => {
    const path = `rules[${index}]`;
    const upstream = r.upstream ?? firstUpstream;
    if (!upstreamNames.includes(upstream)) {
      throw new PolicyError(`${path}.upstream`, `unknown upstream "${upstream}" (configured: ${upstreamNames.join(', ')})`);
    }
    const common = { index, match: Object.freeze([...r.match]), matches: compileGlobs(r.match), upstream };
    if (r.mode === 'fast') {
      if (r.require !== undefined) throw new PolicyError(`${path}.require`, 'a fast rule verifies nothing; remove `require` or use mode: verify');
      if (r.onViolation !== undefined) throw new PolicyError(`${path}.onViolation`, 'a fast rule verifies nothing; remove `onViolation`');
      const fast: FastRule = { ...common, mode: 'fast', forwardAuth: r.forwardAuth ?? false };
      return Object.freeze(fast);
    }
    if (r.forwardAuth !== undefined) throw new PolicyError(`${path}.forwardAuth`, '`forwardAuth` applies to fast rules only; client credentials never go to a verified upstream');
    const verify: VerifyRule = {
      ...common,
      mode: 'verify',
      require: compileRequirement(r.require, raw.defaults?.require),
      onViolation: r.onViolation ?? raw.defaults?.onViolation ?? 'hide',
    };
    return Object.freeze(verify);
  });

  const hash = createHash('sha256')
    .update(JSON.stringify(rules.map(({ matches: _m, ...rest }) => rest)))
    .digest('hex')
    .slice(0, 16);

  return Object.freeze({
    rules: Object.freeze(rules),
    hash,
    ruleFor: (name: string) => {
      // A loop, not rules.find: every request asks, and the builtin on a frozen array is a call V8 does not inline.
      for (let i = 0; i < rules.length; i++) if (rules[i]!.matches(name)) return rules[i];
      return undefined;
    },
  });
}
