import { createHash } from 'node:crypto';
import { compilePolicy, type RawRequireSet } from '../../src/policy/compile.js';
import type { VerifyRule, ViolationMode } from '../../src/policy/types.js';
import type { PackageEvidence } from '../../src/trust/evidence.js';
import type { AuditRecord, ExemptionRecord, KeyRecord, PublishRecord, RevocationState } from '../../src/trust/types.js';

/** Plain trust records and rules for testing the pure evaluator, without cryptography. */

export const DAY = 86_400_000;

export const T0 = Date.parse('2025-01-01T00:00:00.000Z');
let counter = 0;

export function keyRecord(principal: string, overrides: Partial<KeyRecord> = {}): KeyRecord {
  counter++;
  return {
    keyid: `ed25519:${createHash('sha256').update(`${principal}#${counter}`).digest('hex')}`,
    publicKey: '',
    principal,
    roles: ['audit'],
    packages: ['**'],
    notBefore: T0,
    notAfter: T0 + 90 * DAY,
    trust: 'medium',
    enrolledAt: T0,
    ...overrides,
  };
}

export function auditRecord(key: KeyRecord, overrides: Partial<AuditRecord> & { sha512: string }): AuditRecord {
  counter++;
  return {
    id: String(counter),
    keyid: key.keyid,
    name: 'left-pad',
    version: '1.0.0',
    kind: 'full',
    criteria: ['safe-to-deploy'],
    from: undefined,
    notes: undefined,
    thoroughness: undefined,
    seenAt: T0 + DAY,
    ...overrides,
  };
}

export function publishRecord(key: KeyRecord, overrides: Partial<PublishRecord> & { sha512: string }): PublishRecord {
  counter++;
  return { id: String(counter), keyid: key.keyid, name: 'left-pad', version: '1.0.0', publishedAt: T0, seenAt: T0 + DAY, ...overrides };
}

export function exemptionRecord(overrides: Partial<ExemptionRecord> & { sha512: string }): ExemptionRecord {
  return { name: 'left-pad', version: '1.0.0', expiresAt: T0 + 30 * DAY, source: 'package-lock.json', seenAt: T0, ...overrides };
}

export interface EvidenceSpec {
  readonly keys?: readonly KeyRecord[];
  readonly audits?: readonly AuditRecord[];
  readonly publishes?: readonly PublishRecord[];
  readonly exemptions?: readonly ExemptionRecord[];
  readonly revocations?: readonly RevocationState[];
  readonly maxKeyValidityMs?: number;
}

export function evidenceOf(spec: EvidenceSpec, name = 'left-pad'): PackageEvidence {
  return {
    name,
    audits: spec.audits ?? [],
    publishes: spec.publishes ?? [],
    exemptions: spec.exemptions ?? [],
    keys: new Map((spec.keys ?? []).map((k) => [k.keyid, k])),
    revocations: new Map((spec.revocations ?? []).map((r) => [r.keyid, r])),
    maxKeyValidityMs: spec.maxKeyValidityMs ?? 180 * DAY,
  };
}

/** One catch-all verify rule with these requirements (registry signature off unless given). */
export function ruleWith(require: RawRequireSet, onViolation: ViolationMode = 'hide'): VerifyRule {
  const policy = compilePolicy({ rules: [{ match: ['**'], require: { registrySignature: 'off', ...require }, onViolation }] }, ['npmjs']);
  return policy.rules[0] as VerifyRule;
}
