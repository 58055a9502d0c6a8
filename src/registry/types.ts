/**
 * The packument model. Upstream JSON is untrusted: `parsePackument` turns it into these shapes,
 * dropping what it cannot trust and saying why, so that nothing downstream has to re-check types.
 */

/** A registry signature as found in `dist.signatures[]`. */
export interface RegistrySignature {
  readonly keyid: string;
  readonly sig: string;
}

/** The per-version facts a decision is computed from (DESIGN §2: name, version, integrity, signatures, publish time, attestations). */
export interface VersionFacts {
  readonly name: string;
  readonly version: string;
  /** `dist.integrity` as published (may hold several hashes), or undefined. */
  readonly integrity: string | undefined;
  /** Hex sha512 from `dist.integrity`, when it has one. */
  readonly sha512: string | undefined;
  /** Hex sha1 from `dist.shasum`, when present and well formed. */
  readonly sha1: string | undefined;
  readonly signatures: readonly RegistrySignature[];
  /** `time[version]` in ms since the epoch, when present and parseable. */
  readonly publishedAt: number | undefined;
  /** `time[version]` exactly as published, for signature-key expiry. */
  readonly publishedAtRaw: string | undefined;
  /** Upstream `dist.tarball`, as published. */
  readonly tarball: string | undefined;
  readonly attestationsUrl: string | undefined;
  readonly deprecated: boolean;
}

/** A version the parser refused to model, with a one-line reason. */
export interface MalformedVersion {
  readonly version: string;
  readonly reason: string;
}
