/** Outcomes of the pure checks. Each carries a short machine reason and a line for people. */

export type SignatureStatus =
  | 'valid' // a signature by a trusted, unexpired key verifies
  | 'missing' // no signature, while keys are known
  | 'invalid' // a signature by a known key does not verify
  | 'unknown-key' // signatures exist, none by a key we know
  | 'expired-key' // the only matching keys had expired when the version was published
  | 'no-keys'; // the keys for this upstream are unavailable

export interface SignatureVerdict {
  readonly status: SignatureStatus;
  readonly keyid?: string;
  readonly detail: string;
}

/** A registry signing key in the `/-/npm/v1/keys` model, with its public key ready for `crypto.verify`. */
export interface RegistryKey {
  readonly keyid: string;
  readonly keytype: string;
  readonly scheme: string;
  /** Base64 DER SPKI, as published. */
  readonly key: string;
  /** ISO date after which signatures made by this key do not count; null = never. */
  readonly expires: string | null;
}

export interface RegistryKeySet {
  /** Where the keys came from, for logs and status pages ("tuf seed", "https://…/-/npm/v1/keys", a file). */
  readonly source: string;
  readonly keys: readonly RegistryKey[];
  /** Entries of the source document that were left out, each with a one-line reason (for logs). */
  readonly skipped?: readonly string[];
}

/** Which `dist` hashes a version must publish: `sha512` only, or `any` (sha512, else sha1). */
export type IntegrityMode = 'sha512' | 'any';

/** The digest a streaming tarball check compares against. */
export interface ExpectedDigest {
  readonly algorithm: 'sha512' | 'sha1';
  /** Lower-case hex. */
  readonly hex: string;
}

/** Result of a check that needs no cryptography: ok, or a machine reason plus a line for people. */
export interface CheckResult {
  readonly ok: boolean;
  readonly reason?: string;
  readonly detail: string;
}

/** One ECDSA P-256 verification: a signature over `message` by the key whose base64 DER SPKI is `key`. */
export interface P256Task {
  readonly key: string;
  readonly message: string;
  /** Base64 DER signature. */
  readonly sig: string;
}
