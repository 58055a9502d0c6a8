import { decide } from '../policy/decide.js';
import type { Decision, HideReason } from '../policy/decision.js';
import type { VerifyRule } from '../policy/types.js';
import type { AllowedVersion } from '../registry/dist-tags.js';
import type { VersionFacts } from '../registry/types.js';
import { signaturePlan, verdictFromPlan, type IsSignatureValid, type SignaturePlan } from '../verify/registry-signature.js';
import type { RegistryKeySet, SignatureVerdict } from '../verify/types.js';
import type { PackageEvidence } from '../trust/evidence.js';
import { decisionInputs, type DecisionInputs } from './decision-table.js';
import type { TarballOrigins } from './tarball-origin.js';

/*
 * The loops a cold packument runs once per version (thousands of times for a large one), each in
 * a small function of its own rather than in the service's async methods. V8 compiles a function
 * whose loop runs hot; kept inside PackumentService#compute, every large cold packument had V8
 * compile all of #compute (about 150 ms of CPU on the typescript packument, competing with the
 * signature workers for the two cores). Small, these are compiled once, cheaply, and stay so.
 */

/** Each version's signature plan, keyed by its facts. */
export function signaturePlans(facts: ReadonlyMap<string, VersionFacts>, keys: RegistryKeySet | undefined): Map<VersionFacts, SignaturePlan> {
  const plans = new Map<VersionFacts, SignaturePlan>();
  for (const version of facts.values()) plans.set(version, signaturePlan(version, keys));
  return plans;
}

/** Decides one version, given its signature verdict and tamper record. */
export type DecideVersion = (facts: VersionFacts, signature: SignatureVerdict, tampered: boolean) => Decision;

/**
 * The decision of one version under `rule` at `now`, with the package's trust evidence: pure given
 * its arguments, so DecisionTable may call it again later for the same answer. The one place the
 * decision input is built (the start-up warm-up uses it too, and so runs with the same objects).
 */
export function versionDecider(rule: VerifyRule, origins: TarballOrigins, now: number, trust: PackageEvidence | undefined): DecideVersion {
  return (facts, signature, tampered) => {
    const origin = origins.resolve(facts.tarball, rule.upstream);
    return decide(rule, {
      facts,
      signature,
      tarballOriginAllowed: 'upstream' in origin,
      ...('refused' in origin ? { tarballOriginDetail: origin.refused } : {}),
      tampered,
      now,
      ...(trust ? { trust } : {}),
    });
  };
}

export interface VersionDecisions {
  readonly inputs: Map<string, DecisionInputs>;
  /** The versions served (allowed, or warned), in upstream order. */
  readonly served: Set<string>;
  /** The earliest time a decision may read differently (a release age running out). */
  readonly validUntil: number;
  /** How many versions each reason hides. */
  readonly hidden: Map<HideReason, number>;
}

/** Every version's decision, with the signature verdicts read from `isValid`. */
export function decideVersions(
  facts: ReadonlyMap<string, VersionFacts>,
  plans: ReadonlyMap<VersionFacts, SignaturePlan>,
  isValid: IsSignatureValid,
  isTampered: (facts: VersionFacts) => boolean,
  decideOne: DecideVersion,
): VersionDecisions {
  const inputs = new Map<string, DecisionInputs>();
  const served = new Set<string>();
  const hidden = new Map<HideReason, number>();
  let validUntil = Number.POSITIVE_INFINITY;
  for (const [version, versionFacts] of facts) {
    const signature = verdictFromPlan(plans.get(versionFacts)!, versionFacts, isValid);
    const tampered = isTampered(versionFacts);
    const decision = decideOne(versionFacts, signature, tampered);
    inputs.set(version, decisionInputs(decision, signature, tampered));
    if (decision.allowed) served.add(version);
    else for (const reason of decision.reasons) hidden.set(reason, (hidden.get(reason) ?? 0) + 1);
    if (decision.revisitAt !== undefined && decision.revisitAt < validUntil) validUntil = decision.revisitAt;
  }
  return { inputs, served, validUntil, hidden };
}

/** The served versions as dist-tags are repointed over them, in upstream order. */
export function keptVersions(facts: ReadonlyMap<string, VersionFacts>, served: ReadonlySet<string>): Map<string, AllowedVersion> {
  const kept = new Map<string, AllowedVersion>();
  for (const [version, versionFacts] of facts) {
    if (served.has(version)) kept.set(version, { deprecated: versionFacts.deprecated });
  }
  return kept;
}
