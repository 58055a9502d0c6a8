import type { Decision, HideReason } from '../policy/decision.js';
import type { SignatureVerdict } from '../verify/types.js';

/** What serving a version needs from its decision. */
export interface DecisionSummary {
  readonly allowed: boolean;
  /** Allowed although it fails the policy (`onViolation: warn`). */
  readonly warned: boolean;
  readonly reasons: readonly HideReason[];
}

/** The summary, and the inputs of the decision that could read differently later. */
export interface DecisionInputs extends DecisionSummary {
  readonly signature: SignatureVerdict;
  readonly tampered: boolean;
}

const NO_REASONS: readonly HideReason[] = Object.freeze([]);

/** The summary and inputs of `decision`, sharing one empty reasons list between allowed versions. */
export function decisionInputs(decision: Decision, signature: SignatureVerdict, tampered: boolean): DecisionInputs {
  return { allowed: decision.allowed, warned: decision.warned, reasons: decision.reasons.length === 0 ? NO_REASONS : decision.reasons, signature, tampered };
}

/**
 * The decisions of one cached view. Serving needs only whether a version is allowed and why not;
 * the full Decision (every check with its detail, about 1 KB a version) only explains one version
 * to a person. So the table keeps the summary, plus the inputs that could read differently later
 * (the signature verdict, the tamper flag), and `decision()` recomputes the rest with the rule,
 * facts, time and trust evidence of the first computation: the same Decision, without holding
 * 21,000 of them.
 */
export class DecisionTable {
  readonly #inputs: ReadonlyMap<string, DecisionInputs>;
  readonly #decide: (version: string, inputs: DecisionInputs) => Decision;

  constructor(inputs: ReadonlyMap<string, DecisionInputs>, decide: (version: string, inputs: DecisionInputs) => Decision) {
    this.#inputs = inputs;
    this.#decide = decide;
  }

  /** Versions decided (malformed ones are not). */
  get size(): number {
    return this.#inputs.size;
  }

  has(version: string): boolean {
    return this.#inputs.has(version);
  }

  keys(): IterableIterator<string> {
    return this.#inputs.keys();
  }

  summary(version: string): DecisionSummary | undefined {
    return this.#inputs.get(version);
  }

  summaries(): IterableIterator<DecisionSummary> {
    return this.#inputs.values();
  }

  /** The full decision, every check with its detail. */
  decision(version: string): Decision | undefined {
    const inputs = this.#inputs.get(version);
    return inputs === undefined ? undefined : this.#decide(version, inputs);
  }
}
