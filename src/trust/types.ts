/**
 * The trust store's records. Times are milliseconds since the epoch; `seenAt` is always trusted
 * time, when this installation first recorded the entry, never a time a signer wrote.
 */

export type Role = 'audit' | 'publish';
export const ROLES: readonly Role[] = ['audit', 'publish'];

export type TrustLevel = 'low' | 'medium' | 'high';
export const TRUST_LEVELS: readonly TrustLevel[] = ['low', 'medium', 'high'];
export const TRUST_RANK: Readonly<Record<TrustLevel, number>> = { low: 1, medium: 2, high: 3 };

export type AuditKind = 'full' | 'delta' | 'violation';
export type Thoroughness = 'low' | 'medium' | 'high';

/** An enrolled Ed25519 key. */
export interface KeyRecord {
  readonly keyid: string;
  /** Raw 32-byte public key, base64. */
  readonly publicKey: string;
  /** Who holds it (`acme/alice`); one principal counts once however many keys it has. */
  readonly principal: string;
  readonly roles: readonly Role[];
  /** Package-name globs the key may act on (`**`, `@acme/*`). */
  readonly packages: readonly string[];
  readonly notBefore: number;
  readonly notAfter: number;
  readonly trust: TrustLevel;
  readonly enrolledAt: number;
}

/** All revocations of one key, folded: signatures seen at or after `voidFrom` do not count. */
export interface RevocationState {
  readonly keyid: string;
  /** -Infinity when a revocation had no `compromisedSince`: every signature of the key is void. */
  readonly voidFrom: number;
  readonly revokedAt: number;
  readonly reasons: readonly string[];
}

/** One revocation as recorded (by an admin, or self-signed by the key). */
export interface RevocationRecord {
  readonly keyid: string;
  readonly reason: string;
  readonly compromisedSince: number | undefined;
  readonly by: 'admin' | 'self';
  readonly seenAt: number;
}

export interface VersionRef {
  readonly version: string;
  /** Lower-case hex sha512 of the tarball. */
  readonly sha512: string;
}

export interface AuditRecord {
  /** The document's id (hex sha256 of what was signed and the signature). */
  readonly id: string;
  readonly keyid: string;
  readonly name: string;
  readonly version: string;
  readonly sha512: string;
  readonly kind: AuditKind;
  readonly criteria: readonly string[];
  /** Delta audits: the earlier version this one was reviewed against. */
  readonly from: VersionRef | undefined;
  readonly notes: string | undefined;
  readonly thoroughness: Thoroughness | undefined;
  readonly seenAt: number;
}

export interface PublishRecord {
  readonly id: string;
  readonly keyid: string;
  readonly name: string;
  readonly version: string;
  readonly sha512: string;
  /** The publisher's claim, signed; informational. */
  readonly publishedAt: number;
  readonly seenAt: number;
}

/** A baseline exemption for exactly name@version+sha512, until `expiresAt`. */
export interface ExemptionRecord {
  readonly name: string;
  readonly version: string;
  readonly sha512: string;
  readonly expiresAt: number;
  /** Where it came from (the lockfile's name), for status pages. */
  readonly source: string;
  readonly seenAt: number;
}
