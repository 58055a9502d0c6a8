/** Real Ed25519 signers and signed documents for tests, made the way the CLI makes them. */
import { createHash } from 'node:crypto';
import { encodeBase64 } from '../../src/trust/base64.js';
import { signEnvelope } from '../../src/trust/dsse.js';
import { generateKeyPair, type Ed25519KeyPair } from '../../src/trust/ed25519.js';
import { statementBytes } from '../../src/trust/statement.js';
import type { AuditKind, VersionRef } from '../../src/trust/types.js';

/** A real Ed25519 key pair for tests, with the principal it is enrolled for. */
export interface TestSigner extends Ed25519KeyPair {
  readonly principal: string;
  readonly publicKeyBase64: string;
}

export function testSigner(principal: string): TestSigner {
  const pair = generateKeyPair();
  return { ...pair, principal, publicKeyBase64: encodeBase64(pair.publicKey) };
}

/** Hex sha512 of some text, standing in for a tarball digest. */
export function sha512Hex(text: string): string {
  return createHash('sha512').update(text).digest('hex');
}

export interface AuditSpec {
  readonly name: string;
  readonly version: string;
  readonly sha512: string;
  readonly kind?: AuditKind;
  readonly criteria?: readonly string[];
  readonly from?: VersionRef;
  readonly notes?: string;
}

/** A signed audit envelope, as `countersign audit` makes it. */
export function auditEnvelope(signer: TestSigner, spec: AuditSpec): string {
  const kind = spec.kind ?? 'full';
  const payload = statementBytes({
    type: 'audit',
    signer: signer.keyid,
    subject: { name: spec.name, version: spec.version, sha512: spec.sha512 },
    kind,
    criteria: spec.criteria ?? (kind === 'violation' ? [] : ['safe-to-deploy']),
    from: spec.from,
    notes: spec.notes,
    thoroughness: undefined,
  });
  return signEnvelope(payload, signer.secretKey, signer.keyid);
}

export function publishEnvelope(signer: TestSigner, spec: { name: string; version: string; sha512: string; publishedAt?: number }): string {
  const payload = statementBytes({ type: 'publish', signer: signer.keyid, subject: { name: spec.name, version: spec.version, sha512: spec.sha512 }, publishedAt: spec.publishedAt ?? Date.parse('2025-01-01T00:00:00Z') });
  return signEnvelope(payload, signer.secretKey, signer.keyid);
}

export function revocationEnvelope(signer: TestSigner, reason: string, compromisedSince?: number): string {
  const payload = statementBytes({ type: 'revocation', signer: signer.keyid, keyid: signer.keyid, reason, compromisedSince });
  return signEnvelope(payload, signer.secretKey, signer.keyid);
}

/** An enrolment request for the signer (roles audit, all packages, trust medium unless overridden). */
export function enrolment(signer: TestSigner, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { publicKey: signer.publicKeyBase64, principal: signer.principal, roles: ['audit'], ...overrides };
}
