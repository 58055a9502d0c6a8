import { isValidVersion } from '../registry/name.js';
import { KEYID_RE } from './ed25519.js';
import { npmPurl, parseNpmPurl } from './purl.js';
import { isJsonObject, parseStrictJson, StrictJsonError } from './strict-json.js';
import { iso, parseTimestamp } from './time.js';
import { TRUST_LEVELS, type AuditKind, type Thoroughness, type VersionRef } from './types.js';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const PREDICATE_BASE = 'https://countersign.dev';
export const PREDICATE_TYPES = {
  audit: `${PREDICATE_BASE}/audit/v1`,
  publish: `${PREDICATE_BASE}/publish/v1`,
  revocation: `${PREDICATE_BASE}/revocation/v1`,
} as const;

export const CRITERION_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;
const SHA512_RE = /^[0-9a-f]{128}$/;
const SHA256_RE = /^[0-9a-f]{64}$/;
const MAX_NOTES = 4000;
const MAX_REASON = 1000;

export interface PackageSubject {
  readonly name: string;
  readonly version: string;
  readonly sha512: string;
}

/** What a verified payload says, validated field by field. `signer` is the keyid the signed bytes commit to. */
export type Statement =
  | {
      readonly type: 'audit';
      readonly signer: string;
      readonly subject: PackageSubject;
      readonly kind: AuditKind;
      readonly criteria: readonly string[];
      readonly from: VersionRef | undefined;
      readonly notes: string | undefined;
      readonly thoroughness: Thoroughness | undefined;
    }
  | { readonly type: 'publish'; readonly signer: string; readonly subject: PackageSubject; readonly publishedAt: number }
  | { readonly type: 'revocation'; readonly signer: string; readonly keyid: string; readonly reason: string; readonly compromisedSince: number | undefined };

export class StatementError extends Error {
  override readonly name = 'StatementError';
}

function only(obj: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) if (!allowed.includes(key)) throw new StatementError(`${where} has an unknown key ${JSON.stringify(key.slice(0, 64))} (allowed: ${allowed.join(', ')})`);
}

function signerOf(predicate: Record<string, unknown>): string {
  const { signer } = predicate;
  if (typeof signer !== 'string' || !KEYID_RE.test(signer)) throw new StatementError('predicate.signer must be the signing keyid ("ed25519:" + 64 hex digits)');
  return signer;
}

function subjectOf(statement: Record<string, unknown>): { name: string; digest: Record<string, unknown> } {
  const { subject } = statement;
  if (!Array.isArray(subject) || subject.length !== 1) throw new StatementError('subject must hold exactly one entry');
  const [entry] = subject as unknown[];
  if (!isJsonObject(entry)) throw new StatementError('subject[0] must be an object with name and digest');
  only(entry, ['name', 'digest'], 'subject[0]');
  if (typeof entry.name !== 'string' || !isJsonObject(entry.digest)) throw new StatementError('subject[0] must have a string name and a digest object');
  return { name: entry.name, digest: entry.digest };
}

function packageSubject(statement: Record<string, unknown>): PackageSubject {
  const { name, digest } = subjectOf(statement);
  const parsed = parseNpmPurl(name);
  if (!parsed) throw new StatementError(`subject[0].name must be a canonical npm package URL like pkg:npm/%40acme/widget@1.2.3 (got ${JSON.stringify(name.slice(0, 120))})`);
  only(digest, ['sha512'], 'subject[0].digest');
  if (typeof digest.sha512 !== 'string' || !SHA512_RE.test(digest.sha512)) throw new StatementError('subject[0].digest.sha512 must be 128 lower-case hex digits');
  return { ...parsed, sha512: digest.sha512 };
}

function criteriaOf(value: unknown, required: boolean): readonly string[] {
  if (value === undefined && !required) return [];
  if (!Array.isArray(value) || value.length === 0 || value.length > 16) throw new StatementError('predicate.criteria must be a list of 1 to 16 criteria such as "safe-to-deploy"');
  for (const c of value) if (typeof c !== 'string' || !CRITERION_RE.test(c)) throw new StatementError(`predicate.criteria has an invalid criterion ${JSON.stringify(c)}`);
  return [...new Set(value as string[])];
}

function optionalText(value: unknown, max: number, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > max) throw new StatementError(`${where} must be a string of at most ${max} characters`);
  return value;
}

function auditStatement(statement: Record<string, unknown>, predicate: Record<string, unknown>): Statement {
  only(predicate, ['signer', 'kind', 'criteria', 'from', 'notes', 'thoroughness'], 'predicate');
  const subject = packageSubject(statement);
  const { kind } = predicate;
  if (kind !== 'full' && kind !== 'delta' && kind !== 'violation') throw new StatementError('predicate.kind must be "full", "delta" or "violation"');
  let from: VersionRef | undefined;
  if (kind === 'delta') {
    const raw = predicate.from;
    if (!isJsonObject(raw)) throw new StatementError('a delta audit needs predicate.from: { version, sha512 } of the audited version it was reviewed against');
    only(raw, ['version', 'sha512'], 'predicate.from');
    if (typeof raw.version !== 'string' || !isValidVersion(raw.version) || typeof raw.sha512 !== 'string' || !SHA512_RE.test(raw.sha512)) throw new StatementError('predicate.from needs a semver version and a 128-hex-digit sha512');
    if (raw.version === subject.version) throw new StatementError('predicate.from must name another version than the subject');
    from = { version: raw.version, sha512: raw.sha512 };
  } else if (predicate.from !== undefined) {
    throw new StatementError('predicate.from is only allowed on delta audits');
  }
  const { thoroughness } = predicate;
  if (thoroughness !== undefined && !(TRUST_LEVELS as readonly unknown[]).includes(thoroughness)) throw new StatementError('predicate.thoroughness must be low, medium or high');
  return {
    type: 'audit',
    signer: signerOf(predicate),
    subject,
    kind,
    criteria: criteriaOf(predicate.criteria, kind !== 'violation'),
    from,
    notes: optionalText(predicate.notes, MAX_NOTES, 'predicate.notes'),
    thoroughness: thoroughness as Thoroughness | undefined,
  };
}

function publishStatement(statement: Record<string, unknown>, predicate: Record<string, unknown>): Statement {
  only(predicate, ['signer', 'publishedAt'], 'predicate');
  const publishedAt = parseTimestamp(predicate.publishedAt);
  if (publishedAt === undefined) throw new StatementError('predicate.publishedAt must be an RFC 3339 time like 2025-03-01T12:00:00Z');
  return { type: 'publish', signer: signerOf(predicate), subject: packageSubject(statement), publishedAt };
}

function revocationStatement(statement: Record<string, unknown>, predicate: Record<string, unknown>): Statement {
  only(predicate, ['signer', 'keyid', 'reason', 'compromisedSince'], 'predicate');
  const { name, digest } = subjectOf(statement);
  const { keyid } = predicate;
  if (typeof keyid !== 'string' || !KEYID_RE.test(keyid)) throw new StatementError('predicate.keyid must be the revoked keyid');
  only(digest, ['sha256'], 'subject[0].digest');
  if (name !== keyid || typeof digest.sha256 !== 'string' || !SHA256_RE.test(digest.sha256) || `ed25519:${digest.sha256}` !== keyid) {
    throw new StatementError('a revocation\'s subject must be { name: <keyid>, digest: { sha256: <the keyid\'s hex> } }');
  }
  const reason = optionalText(predicate.reason, MAX_REASON, 'predicate.reason');
  if (!reason) throw new StatementError('predicate.reason must say why the key is revoked');
  let compromisedSince: number | undefined;
  if (predicate.compromisedSince !== undefined) {
    compromisedSince = parseTimestamp(predicate.compromisedSince);
    if (compromisedSince === undefined) throw new StatementError('predicate.compromisedSince must be an RFC 3339 time');
  }
  return { type: 'revocation', signer: signerOf(predicate), keyid, reason, compromisedSince };
}

/** Parses verified payload bytes as an in-toto Statement v1 with one of our predicates. */
export function parseStatement(payload: Uint8Array, maxBytes: number): Statement {
  let doc: unknown;
  try {
    doc = parseStrictJson(payload, { maxBytes, maxDepth: 8 });
  } catch (err) {
    if (err instanceof StrictJsonError) throw new StatementError(`the payload is not strict JSON: ${err.message}`);
    throw err;
  }
  if (!isJsonObject(doc)) throw new StatementError('the payload must be an in-toto Statement object');
  only(doc, ['_type', 'subject', 'predicateType', 'predicate'], 'the statement');
  if (doc._type !== STATEMENT_TYPE) throw new StatementError(`statement._type must be ${STATEMENT_TYPE}`);
  if (!isJsonObject(doc.predicate)) throw new StatementError('statement.predicate must be an object');
  switch (doc.predicateType) {
    case PREDICATE_TYPES.audit:
      return auditStatement(doc, doc.predicate);
    case PREDICATE_TYPES.publish:
      return publishStatement(doc, doc.predicate);
    case PREDICATE_TYPES.revocation:
      return revocationStatement(doc, doc.predicate);
    default:
      throw new StatementError(`statement.predicateType must be one of ${Object.values(PREDICATE_TYPES).join(', ')}`);
  }
}

/** The payload bytes for a statement (the signing side; the verifying side never re-serializes). */
export function statementBytes(statement: Statement): Buffer {
  const predicateType = PREDICATE_TYPES[statement.type];
  let subject: unknown[];
  let predicate: Record<string, unknown>;
  switch (statement.type) {
    case 'audit':
      subject = [{ name: npmPurl(statement.subject.name, statement.subject.version), digest: { sha512: statement.subject.sha512 } }];
      predicate = {
        signer: statement.signer,
        kind: statement.kind,
        ...(statement.criteria.length > 0 ? { criteria: statement.criteria } : {}),
        ...(statement.from ? { from: statement.from } : {}),
        ...(statement.notes !== undefined ? { notes: statement.notes } : {}),
        ...(statement.thoroughness !== undefined ? { thoroughness: statement.thoroughness } : {}),
      };
      break;
    case 'publish':
      subject = [{ name: npmPurl(statement.subject.name, statement.subject.version), digest: { sha512: statement.subject.sha512 } }];
      predicate = { signer: statement.signer, publishedAt: iso(statement.publishedAt) };
      break;
    case 'revocation':
      subject = [{ name: statement.keyid, digest: { sha256: statement.keyid.slice('ed25519:'.length) } }];
      predicate = {
        signer: statement.signer,
        keyid: statement.keyid,
        reason: statement.reason,
        ...(statement.compromisedSince !== undefined ? { compromisedSince: iso(statement.compromisedSince) } : {}),
      };
      break;
  }
  return Buffer.from(JSON.stringify({ _type: STATEMENT_TYPE, subject, predicateType, predicate }), 'utf8');
}
