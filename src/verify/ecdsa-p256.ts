import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/**
 * ECDSA P-256 with SHA-256 over base64 DER SPKI keys and base64 DER signatures, the scheme of npm's
 * registry signatures (`ecdsa-sha2-nistp256`). Shared by the inline path and the worker threads.
 */

const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;
// Importing a key costs about twice a verification, so imported keys are kept. Registries have a
// handful of keys; the bound only protects against a caller feeding endless garbage.
const MAX_CACHED_KEYS = 64;
const keyCache = new Map<string, KeyObject | null>();

function importP256(derBase64: string): KeyObject | null {
  if (!BASE64_RE.test(derBase64)) return null;
  try {
    const key = createPublicKey({ key: Buffer.from(derBase64, 'base64'), format: 'der', type: 'spki' });
    const isP256 = key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
    return isP256 ? key : null;
  } catch {
    return null;
  }
}

/** The public key for a base64 DER SPKI string, or undefined when it is not a P-256 public key. */
export function p256PublicKey(derBase64: string): KeyObject | undefined {
  let key = keyCache.get(derBase64);
  if (key === undefined) {
    key = importP256(derBase64);
    if (keyCache.size >= MAX_CACHED_KEYS) keyCache.clear();
    keyCache.set(derBase64, key);
  }
  return key ?? undefined;
}

/** True when `sigBase64` is a valid signature over `message` (UTF-8). Never throws: anything malformed is false. */
export function verifyP256(keyDerBase64: string, message: string, sigBase64: string): boolean {
  const key = p256PublicKey(keyDerBase64);
  if (key === undefined || !BASE64_RE.test(sigBase64)) return false;
  try {
    return verify('sha256', Buffer.from(message, 'utf8'), key, Buffer.from(sigBase64, 'base64'));
  } catch {
    return false;
  }
}
