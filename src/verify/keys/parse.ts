import { CountersignError } from '../../errors.js';
import { p256PublicKey } from '../ecdsa-p256.js';
import type { RegistryKey, RegistryKeySet } from '../types.js';

/** The only key type and scheme npm registries use, and the only ones countersign verifies. */
export const NPM_KEY_TYPE = 'ecdsa-sha2-nistp256';

type Entry = { readonly key: RegistryKey } | { readonly skip: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function parseEntry(raw: unknown, index: number): Entry {
  const at = `keys[${index}]`;
  if (!isRecord(raw)) return { skip: `${at}: not an object` };
  const { keyid, keytype, scheme, key, expires } = raw;
  if (!nonEmptyString(keyid)) return { skip: `${at}: keyid must be a non-empty string` };
  const name = `${at} (${keyid})`;
  if (keytype !== NPM_KEY_TYPE || scheme !== NPM_KEY_TYPE) {
    return { skip: `${name}: unsupported keytype/scheme ${JSON.stringify(keytype)}/${JSON.stringify(scheme)}, only ${NPM_KEY_TYPE} is verified` };
  }
  if (!nonEmptyString(key) || p256PublicKey(key) === undefined) return { skip: `${name}: key is not a base64 DER SPKI P-256 public key` };
  if (expires !== null && !(typeof expires === 'string' && Number.isFinite(Date.parse(expires)))) {
    return { skip: `${name}: expires must be null or a date, got ${JSON.stringify(expires)}` };
  }
  return { key: { keyid, keytype, scheme, key, expires } };
}

/**
 * Validates a `/-/npm/v1/keys` document (`{keys: [{expires, keyid, keytype, scheme, key}]}`).
 * Entries that cannot be used (another key type, a malformed field, a repeated keyid) are left out
 * and listed in `skipped`; when no key is left, throws ECS_KEYS_UNAVAILABLE.
 */
export function parseKeysDocument(json: unknown, source: string): RegistryKeySet {
  if (!isRecord(json) || !Array.isArray(json.keys)) {
    throw new CountersignError('ECS_KEYS_UNAVAILABLE', `registry keys from ${source} are not a keys document: expected {"keys": [...]}`, {
      details: { source },
    });
  }
  const keys: RegistryKey[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  json.keys.forEach((raw: unknown, index) => {
    const entry = parseEntry(raw, index);
    if ('skip' in entry) skipped.push(entry.skip);
    else if (seen.has(entry.key.keyid)) skipped.push(`keys[${index}] (${entry.key.keyid}): repeats an earlier keyid`);
    else {
      seen.add(entry.key.keyid);
      keys.push(entry.key);
    }
  });
  if (keys.length === 0) {
    const why = skipped.length === 0 ? 'the document lists no keys' : skipped.join('; ');
    throw new CountersignError('ECS_KEYS_UNAVAILABLE', `no usable registry key from ${source}: ${why}`, { details: { source, skipped } });
  }
  return { source, keys, skipped };
}
