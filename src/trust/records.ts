import { compileGlob } from '../policy/glob.js';
import { decodeBase64Strict } from './base64.js';
import { isValidPublicKey, KEYID_RE, keyidOf } from './ed25519.js';
import { isJsonObject } from './strict-json.js';
import { iso, parseTimestamp } from './time.js';
import { ROLES, TRUST_LEVELS, type ExemptionRecord, type KeyRecord, type Role, type TrustLevel } from './types.js';
import { isValidVersion, parsePackageName } from '../registry/name.js';

/**
 * The records an admin writes (key enrolments, admin revocations, baseline exemptions): their
 * JSON form in the log, and the validation of what an admin asks for. Pure.
 */

export class RecordError extends Error {
  override readonly name = 'RecordError';
}

export const PRINCIPAL_RE = /^[A-Za-z0-9][A-Za-z0-9._@/+-]{0,127}$/;
const GLOB_RE = /^(@[A-Za-z0-9._~*-]+\/)?[A-Za-z0-9._~*-]+$|^\*\*$/;
const SHA512_RE = /^[0-9a-f]{128}$/;

function only(obj: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(obj)) if (!allowed.includes(key)) throw new RecordError(`${what}: unknown field ${JSON.stringify(key.slice(0, 64))} (allowed: ${allowed.join(', ')})`);
}

function time(value: unknown, field: string): number {
  const ms = parseTimestamp(value);
  if (ms === undefined) throw new RecordError(`${field} must be an RFC 3339 time like 2025-03-01T12:00:00Z`);
  return ms;
}

/** What an admin sends to enrol a key; times are RFC 3339 text. */
export interface EnrolmentRequest {
  readonly publicKey: string;
  readonly principal: string;
  readonly roles: readonly Role[];
  readonly packages?: readonly string[];
  readonly notBefore?: string;
  readonly notAfter?: string;
  readonly trust?: TrustLevel;
}

/**
 * Validates an enrolment and fills its defaults: packages `**`, trust `medium`, valid from now for
 * `maxKeyValidityMs`. A validity window longer than `maxKeyValidityMs` is refused, not shortened:
 * the admin should know what they enrolled.
 */
export function keyRecordFromRequest(input: unknown, now: number, maxKeyValidityMs: number): Omit<KeyRecord, 'enrolledAt'> {
  if (!isJsonObject(input)) throw new RecordError('a key enrolment is an object with publicKey, principal and roles');
  only(input, ['publicKey', 'principal', 'roles', 'packages', 'notBefore', 'notAfter', 'trust'], 'key enrolment');
  const raw = typeof input.publicKey === 'string' ? decodeBase64Strict(input.publicKey) : undefined;
  if (raw === undefined || !isValidPublicKey(raw)) throw new RecordError('publicKey must be a raw 32-byte Ed25519 public key in base64 (as printed by countersign keygen)');
  const { principal } = input;
  if (typeof principal !== 'string' || !PRINCIPAL_RE.test(principal)) throw new RecordError('principal must be 1-128 characters of letters, digits and ._@/+- (like acme/alice)');
  const roles = input.roles;
  if (!Array.isArray(roles) || roles.length === 0 || roles.some((r) => !(ROLES as readonly unknown[]).includes(r))) throw new RecordError(`roles must be a non-empty list of ${ROLES.join(', ')}`);
  const packages = input.packages ?? ['**'];
  if (!Array.isArray(packages) || packages.length === 0 || packages.length > 64 || packages.some((g) => typeof g !== 'string' || !GLOB_RE.test(g))) {
    throw new RecordError('packages must be a list of package-name globs such as "**", "@acme/*" or "left-pad"');
  }
  const trust = input.trust ?? 'medium';
  if (!(TRUST_LEVELS as readonly unknown[]).includes(trust)) throw new RecordError(`trust must be one of ${TRUST_LEVELS.join(', ')}`);
  const notBefore = input.notBefore === undefined ? now : time(input.notBefore, 'notBefore');
  const notAfter = input.notAfter === undefined ? notBefore + maxKeyValidityMs : time(input.notAfter, 'notAfter');
  if (notAfter <= notBefore) throw new RecordError('notAfter must be later than notBefore');
  if (notAfter - notBefore > maxKeyValidityMs) {
    throw new RecordError(`the key would be valid for ${Math.ceil((notAfter - notBefore) / 86_400_000)} days, over trust.maxKeyValidity (${Math.floor(maxKeyValidityMs / 86_400_000)} days): choose an earlier notAfter, and rotate the key before it expires`);
  }
  if (notAfter <= now) throw new RecordError('notAfter is in the past: the key would never be valid');
  for (const glob of packages as string[]) compileGlob(glob);
  return {
    keyid: keyidOf(raw),
    publicKey: input.publicKey as string,
    principal,
    roles: [...new Set(roles as Role[])],
    packages: [...new Set(packages as string[])],
    notBefore,
    notAfter,
    trust: trust as TrustLevel,
  };
}

/** The log body of an enrolment. */
export function keyBody(record: Omit<KeyRecord, 'enrolledAt'>): string {
  return JSON.stringify({ ...record, notBefore: iso(record.notBefore), notAfter: iso(record.notAfter) });
}

export function parseKeyBody(body: unknown, seenAt: number): KeyRecord {
  if (!isJsonObject(body)) throw new RecordError('key entry is not an object');
  only(body, ['keyid', 'publicKey', 'principal', 'roles', 'packages', 'notBefore', 'notAfter', 'trust'], 'key entry');
  const { keyid, ...rest } = body;
  // Re-validated against its own window: what was accepted once is read back the same way.
  const record = keyRecordFromRequest(rest, time(rest.notBefore, 'notBefore'), Number.MAX_SAFE_INTEGER);
  if (keyid !== record.keyid) throw new RecordError('key entry keyid does not match its public key');
  return { ...record, enrolledAt: seenAt };
}

export interface AdminRevocation {
  readonly keyid: string;
  readonly reason: string;
  readonly compromisedSince: number | undefined;
}

export function adminRevocationFromRequest(input: unknown): AdminRevocation {
  if (!isJsonObject(input)) throw new RecordError('a revocation is an object with keyid, reason and optionally compromisedSince');
  only(input, ['keyid', 'reason', 'compromisedSince'], 'revocation');
  const { keyid, reason } = input;
  if (typeof keyid !== 'string' || !KEYID_RE.test(keyid)) throw new RecordError('keyid must be "ed25519:" followed by 64 hex digits');
  if (typeof reason !== 'string' || reason.length === 0 || reason.length > 1000) throw new RecordError('reason must say, in at most 1000 characters, why the key is revoked');
  const compromisedSince = input.compromisedSince === undefined ? undefined : time(input.compromisedSince, 'compromisedSince');
  return { keyid, reason, compromisedSince };
}

export function revocationBody(r: AdminRevocation): string {
  return JSON.stringify({ keyid: r.keyid, reason: r.reason, ...(r.compromisedSince !== undefined ? { compromisedSince: iso(r.compromisedSince) } : {}) });
}

export interface ExemptionRequest {
  readonly name: string;
  readonly version: string;
  readonly sha512: string;
  readonly expiresAt: string;
  readonly source: string;
}

/** Checks the fields of an exemption, not its dates (the log reads back expired ones too). */
export function parseExemption(input: unknown): Omit<ExemptionRecord, 'seenAt'> {
  if (!isJsonObject(input)) throw new RecordError('an exemption is an object with name, version, sha512, expiresAt and source');
  only(input, ['name', 'version', 'sha512', 'expiresAt', 'source'], 'exemption');
  const { name, version, sha512, source } = input;
  if (typeof name !== 'string' || !parsePackageName(name)) throw new RecordError(`exemption name ${JSON.stringify(name)} is not an npm package name`);
  if (typeof version !== 'string' || !isValidVersion(version)) throw new RecordError(`exemption version ${JSON.stringify(version)} of ${name} is not a semver version`);
  if (typeof sha512 !== 'string' || !SHA512_RE.test(sha512)) throw new RecordError(`exemption sha512 of ${name}@${version} must be 128 lower-case hex digits`);
  if (typeof source !== 'string' || source.length === 0 || source.length > 200) throw new RecordError('exemption source must name where it came from (1-200 characters)');
  return { name, version, sha512, expiresAt: time(input.expiresAt, 'expiresAt'), source };
}

/** A new exemption: valid fields, expiring in the future but within `maxExemptionMs`. */
export function exemptionFromRequest(input: unknown, now: number, maxExemptionMs: number): Omit<ExemptionRecord, 'seenAt'> {
  const exemption = parseExemption(input);
  const { name, version, expiresAt } = exemption;
  if (expiresAt <= now) throw new RecordError(`exemption of ${name}@${version} expires in the past`);
  if (expiresAt - now > maxExemptionMs) throw new RecordError(`exemption of ${name}@${version} runs for longer than trust.maxExemption (${Math.floor(maxExemptionMs / 86_400_000)} days)`);
  return exemption;
}

export function exemptionBody(e: Omit<ExemptionRecord, 'seenAt'>): string {
  return JSON.stringify({ ...e, expiresAt: iso(e.expiresAt) });
}
