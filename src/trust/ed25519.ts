import { createHash, randomBytes } from 'node:crypto';
import * as ed from '@noble/ed25519';

// noble's synchronous API needs a sha512; node:crypto's is native and constant-time enough for hashing.
ed.hashes.sha512 = (message: Uint8Array) => new Uint8Array(createHash('sha512').update(message).digest());

export const PUBLIC_KEY_BYTES = 32;
export const SECRET_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;

/** `ed25519:` + hex sha256 of the raw 32-byte public key (DESIGN §4). */
export function keyidOf(publicKey: Uint8Array): string {
  if (publicKey.length !== PUBLIC_KEY_BYTES) throw new RangeError(`an Ed25519 public key is ${PUBLIC_KEY_BYTES} bytes, got ${publicKey.length}`);
  return `ed25519:${createHash('sha256').update(publicKey).digest('hex')}`;
}

export const KEYID_RE = /^ed25519:[0-9a-f]{64}$/;

export interface Ed25519KeyPair {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly keyid: string;
}

export function generateKeyPair(): Ed25519KeyPair {
  const secretKey = new Uint8Array(randomBytes(SECRET_KEY_BYTES));
  return keyPairFromSecret(secretKey);
}

export function keyPairFromSecret(secretKey: Uint8Array): Ed25519KeyPair {
  if (secretKey.length !== SECRET_KEY_BYTES) throw new RangeError(`an Ed25519 secret key is ${SECRET_KEY_BYTES} bytes, got ${secretKey.length}`);
  const publicKey = ed.getPublicKey(secretKey);
  return { secretKey, publicKey, keyid: keyidOf(publicKey) };
}

export function signBytes(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return ed.sign(message, secretKey);
}

/**
 * RFC 8032 verification in noble's strict mode (`zip215: false`): non-canonical encodings and
 * small-order keys are refused. Malformed inputs are simply invalid, never an exception.
 */
export function verifyBytes(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES || publicKey.length !== PUBLIC_KEY_BYTES) return false;
  try {
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** True when the bytes decode to a point usable as a strict Ed25519 public key. */
export function isValidPublicKey(publicKey: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_BYTES) return false;
  try {
    const point = ed.Point.fromBytes(publicKey, false);
    return !point.isSmallOrder();
  } catch {
    return false;
  }
}
