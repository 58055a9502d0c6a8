import { createHash, type Hash } from 'node:crypto';
import ssri, { type IntegrityMap } from 'ssri';
import type { VersionFacts } from '../registry/types.js';
import type { CheckResult, ExpectedDigest, IntegrityMode } from './types.js';

/** Why a version's published hashes cannot be used, as `CheckResult.reason`. */
export type IntegrityFormatReason = 'no-integrity' | 'no-sha512' | 'malformed-integrity' | 'ambiguous-integrity';

type Algorithm = ExpectedDigest['algorithm'];

const DIGEST_BYTES: Readonly<Record<Algorithm, number>> = { sha512: 64, sha1: 20 };
const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;
const SHA1_HEX_RE = /^[0-9a-f]{40}$/;
/** Real dist.integrity strings are under 200 characters; longer ones are not parsed, and count as malformed. */
const MAX_INTEGRITY_LENGTH = 4096;
/**
 * What the registry publishes for nearly every version: exactly one sha512 entry, canonical base64
 * (86 characters and `==` encode 64 bytes), no options. ssri parses it to that one entry.
 */
const SINGLE_SHA512_RE = /^sha512-[A-Za-z0-9+/]{86}==$/;

/**
 * The entries of one algorithm in an SRI string, as hex. ssri's loose parser keeps any digest text,
 * so each one is checked here: base64 that decodes to exactly the digest length of the algorithm.
 */
interface DigestEntries {
  /** Distinct well-formed digests, lower-case hex. */
  readonly hexes: readonly string[];
  /** True when at least one entry of this algorithm is not a valid digest. */
  readonly malformed: boolean;
}

const NO_ENTRIES: DigestEntries = { hexes: [], malformed: false };

function digestEntries(integrity: string | undefined, algorithm: Algorithm): DigestEntries {
  if (integrity === undefined) return NO_ENTRIES;
  // The common case without ssri: what its parser and the checks below make of it, ~10× faster.
  if (SINGLE_SHA512_RE.test(integrity)) {
    return algorithm === 'sha512' ? { hexes: [Buffer.from(integrity.slice(7), 'base64').toString('hex')], malformed: false } : NO_ENTRIES;
  }
  if (integrity.length > MAX_INTEGRITY_LENGTH) return { hexes: [], malformed: true };
  // ssri returns null for a string without any recognizable entry, despite its typings.
  const parsed: IntegrityMap | null = ssri.parse(integrity);
  const entries = parsed?.[algorithm] ?? [];
  const hexes = new Set<string>();
  let malformed = false;
  for (const entry of entries) {
    const bytes = BASE64_RE.test(entry.digest) ? Buffer.from(entry.digest, 'base64') : undefined;
    if (bytes?.length === DIGEST_BYTES[algorithm]) hexes.add(bytes.toString('hex'));
    else malformed = true;
  }
  return { hexes: [...hexes], malformed };
}

function single(entries: DigestEntries): string | undefined {
  return !entries.malformed && entries.hexes.length === 1 ? entries.hexes[0] : undefined;
}

/** Hex sha512 of an SRI string, when it holds exactly one well-formed sha512 digest. */
export function sha512HexOf(integrity: string | undefined): string | undefined {
  return single(digestEntries(integrity, 'sha512'));
}

/** Hex sha1 of an SRI string (old packages publish `sha1-…`), when it holds exactly one. */
export function sha1HexOf(integrity: string | undefined): string | undefined {
  return single(digestEntries(integrity, 'sha1'));
}

type Resolution = { readonly digest: ExpectedDigest; readonly detail: string } | { readonly reason: IntegrityFormatReason; readonly detail: string };

function describe(integrity: string | undefined): string {
  if (integrity === undefined) return 'no dist.integrity';
  const shown = integrity.length > 100 ? `${integrity.slice(0, 100)}…` : integrity;
  return `dist.integrity ${JSON.stringify(shown)}`;
}

/** sha1 candidates: `sha1-…` in dist.integrity and dist.shasum must agree when both are present. */
function resolveSha1(facts: VersionFacts): Resolution {
  const fromIntegrity = digestEntries(facts.integrity, 'sha1');
  if (fromIntegrity.malformed) return { reason: 'malformed-integrity', detail: `${describe(facts.integrity)} has a malformed sha1 entry` };
  const shasum = facts.sha1?.toLowerCase();
  const candidates = new Set(fromIntegrity.hexes);
  if (shasum !== undefined && SHA1_HEX_RE.test(shasum)) candidates.add(shasum);
  const [hex, ...others] = [...candidates];
  if (hex === undefined) return { reason: 'no-integrity', detail: `${describe(facts.integrity)} and no dist.shasum: nothing to check the tarball against` };
  if (others.length > 0) return { reason: 'ambiguous-integrity', detail: 'the sha1 in dist.integrity and dist.shasum disagree' };
  return { digest: { algorithm: 'sha1', hex }, detail: 'sha1 only (no sha512 published); accepted by policy' };
}

const FROM_INTEGRITY = 'sha512 from dist.integrity';

function resolveDigest(facts: VersionFacts, mode: IntegrityMode): Resolution {
  // facts.sha512 is sha512HexOf(facts.integrity), computed once when the packument was parsed.
  if (facts.sha512 !== undefined) return { digest: { algorithm: 'sha512', hex: facts.sha512 }, detail: FROM_INTEGRITY };
  const sha512 = digestEntries(facts.integrity, 'sha512');
  // A version that publishes two different sha512 digests (or a broken one) is refused: one of them is a lie.
  if (sha512.malformed) return { reason: 'malformed-integrity', detail: `${describe(facts.integrity)} has a malformed sha512 entry` };
  if (sha512.hexes.length > 1) return { reason: 'ambiguous-integrity', detail: `${describe(facts.integrity)} has ${sha512.hexes.length} different sha512 digests` };
  const [hex] = sha512.hexes;
  if (hex !== undefined) return { digest: { algorithm: 'sha512', hex }, detail: FROM_INTEGRITY };
  if (mode === 'any') return resolveSha1(facts);
  const hasSha1 = facts.sha1 !== undefined || digestEntries(facts.integrity, 'sha1').hexes.length > 0;
  return hasSha1
    ? { reason: 'no-sha512', detail: `${describe(facts.integrity)}: only a sha1 is published, and policy requires sha512` }
    : { reason: 'no-integrity', detail: `${describe(facts.integrity)} has no sha512 hash to check the tarball against` };
}

/**
 * Whether the version publishes a hash the tarball can be checked against. `sha512` mode needs a
 * sha512 in dist.integrity; `any` mode also accepts a sha1 (dist.integrity `sha1-…` or dist.shasum).
 */
export function integrityFormatCheck(facts: VersionFacts, mode: IntegrityMode): CheckResult {
  const resolution = resolveDigest(facts, mode);
  if ('digest' in resolution) return { ok: true, detail: resolution.detail };
  return { ok: false, reason: resolution.reason, detail: resolution.detail };
}

/** The digest a streaming check must compare the tarball with (sha512 preferred), or undefined when the format check fails. */
export function expectedDigest(facts: VersionFacts, mode: IntegrityMode): ExpectedDigest | undefined {
  const resolution = resolveDigest(facts, mode);
  return 'digest' in resolution ? resolution.digest : undefined;
}

/** Hashes a body chunk by chunk as it streams through, without keeping it. */
export class IntegrityHasher {
  readonly expected: ExpectedDigest;
  readonly #hash: Hash;
  #hex: string | undefined;
  #bytes = 0;

  constructor(expected: ExpectedDigest) {
    this.expected = expected;
    this.#hash = createHash(expected.algorithm);
  }

  /** Bytes hashed so far. */
  get bytes(): number {
    return this.#bytes;
  }

  update(chunk: Uint8Array): this {
    if (this.#hex !== undefined) throw new Error('IntegrityHasher.update() called after digestHex()');
    this.#hash.update(chunk);
    this.#bytes += chunk.length;
    return this;
  }

  /** Finishes the hash (once; later calls return the same value). */
  digestHex(): string {
    this.#hex ??= this.#hash.digest('hex');
    return this.#hex;
  }

  matches(): boolean {
    return this.digestHex() === this.expected.hex;
  }
}
