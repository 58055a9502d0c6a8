import { sha512HexOf } from '../verify/integrity.js';
import { isRecord } from './untrusted.js';
import type { RegistrySignature, VersionFacts } from './types.js';

/** At most this many `dist.signatures` entries are kept; the registry publishes one per key. */
export const MAX_SIGNATURES = 16;
const SHA1_HEX_RE = /^[0-9a-fA-F]{40}$/;

/**
 * Extracts the facts a decision is computed from. `manifest` and `dist` have been checked to be
 * objects; every field read here may still hold any JSON value.
 */
export function extractVersionFacts(
  name: string,
  version: string,
  manifest: Readonly<Record<string, unknown>>,
  dist: Readonly<Record<string, unknown>>,
  publishedAtRaw: string | undefined,
): VersionFacts {
  const integrity = typeof dist['integrity'] === 'string' ? dist['integrity'] : undefined;
  const publishedAt = publishedAtRaw === undefined ? NaN : Date.parse(publishedAtRaw);
  return {
    name,
    version,
    integrity,
    sha512: sha512HexOf(integrity),
    sha1: sha1Hex(dist['shasum']),
    signatures: registrySignatures(dist['signatures']),
    publishedAt: Number.isNaN(publishedAt) ? undefined : publishedAt,
    publishedAtRaw,
    tarball: typeof dist['tarball'] === 'string' ? dist['tarball'] : undefined,
    attestationsUrl: attestationsUrl(dist['attestations']),
    deprecated: typeof manifest['deprecated'] === 'string' && manifest['deprecated'].length > 0,
  };
}


function sha1Hex(shasum: unknown): string | undefined {
  return typeof shasum === 'string' && SHA1_HEX_RE.test(shasum) ? shasum.toLowerCase() : undefined;
}

function registrySignatures(value: unknown): RegistrySignature[] {
  if (!Array.isArray(value)) return [];
  const out: RegistrySignature[] = [];
  for (const entry of value) {
    if (out.length === MAX_SIGNATURES) break;
    if (!isRecord(entry)) continue;
    const { keyid, sig } = entry;
    if (typeof keyid === 'string' && keyid.length > 0 && typeof sig === 'string' && sig.length > 0) {
      out.push({ keyid, sig });
    }
  }
  return out;
}

function attestationsUrl(value: unknown): string | undefined {
  if (!isRecord(value)) return undefined;
  const url = value['url'];
  return typeof url === 'string' && url.length > 0 ? url : undefined;
}
