import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { VersionFacts } from '../../src/registry/types.js';
import { sha512HexOf } from '../../src/verify/integrity.js';

/**
 * A real ECDSA P-256 registry signing key for tests, in the shapes the npm registry publishes:
 * `/-/npm/v1/keys` entries and `dist.signatures[]` over `${name}@${version}:${integrity}`.
 */
export interface TestRegistryKey {
  readonly keyid: string;
  readonly expires: string | null;
  readonly privateKey: KeyObject;
  readonly publicKeyDerBase64: string;
  /** The key as one entry of `/-/npm/v1/keys`. */
  entry(): NpmKeyEntry;
  /** The `/-/npm/v1/keys` document with this key only. */
  keysDocument(): { keys: NpmKeyEntry[] };
  /** A `dist.signatures[]` entry, as the registry signs a version. */
  sign(name: string, version: string, integrity: string): { keyid: string; sig: string };
  /** A base64 DER signature over any message. */
  signMessage(message: string): string;
}

export interface NpmKeyEntry {
  expires: string | null;
  keyid: string;
  keytype: 'ecdsa-sha2-nistp256';
  scheme: 'ecdsa-sha2-nistp256';
  key: string;
}

export function createRegistryKey(keyid?: string, expires: string | null = null): TestRegistryKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const publicKeyDerBase64 = der.toString('base64');
  // Unique per key, shaped like npm's keyids (SHA256: + unpadded base64 of the key's hash).
  const id = keyid ?? `SHA256:test-${createHash('sha256').update(der).digest('base64').replace(/=+$/, '').slice(0, 24)}`;
  const signMessage = (message: string): string => sign('sha256', Buffer.from(message, 'utf8'), privateKey).toString('base64');
  const entry = (): NpmKeyEntry => ({ expires, keyid: id, keytype: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256', key: publicKeyDerBase64 });
  return {
    keyid: id,
    expires,
    privateKey,
    publicKeyDerBase64,
    entry,
    keysDocument: () => ({ keys: [entry()] }),
    sign: (name, version, integrity) => ({ keyid: id, sig: signMessage(`${name}@${version}:${integrity}`) }),
    signMessage,
  };
}

/** `sha512-<base64>` of some bytes, as dist.integrity holds it. */
export function sha512Integrity(data: string | Uint8Array): string {
  return `sha512-${createHash('sha512').update(data).digest('base64')}`;
}

/**
 * Complete VersionFacts for tests: `left-pad@1.0.0` with a sha512 integrity, published
 * 2024-06-01, unsigned; override any field. Pass `signedBy` to add that key's signature over the
 * final name, version and integrity.
 */
export function testVersionFacts(overrides: Partial<VersionFacts> = {}, signedBy: readonly TestRegistryKey[] = []): VersionFacts {
  const base: VersionFacts = {
    name: 'left-pad',
    version: '1.0.0',
    integrity: sha512Integrity('left-pad 1.0.0 tarball'),
    sha512: undefined,
    sha1: undefined,
    signatures: [],
    publishedAt: Date.parse('2024-06-01T00:00:00.000Z'),
    publishedAtRaw: '2024-06-01T00:00:00.000Z',
    tarball: undefined,
    attestationsUrl: undefined,
    deprecated: false,
    ...overrides,
  };
  const integrity = base.integrity;
  // As extractVersionFacts computes it: the decisions rely on it matching dist.integrity.
  const sha512 = 'sha512' in overrides ? overrides.sha512 : sha512HexOf(integrity);
  const signatures = integrity === undefined ? [] : signedBy.map((key) => key.sign(base.name, base.version, integrity));
  return { ...base, sha512, signatures: [...base.signatures, ...signatures] };
}
