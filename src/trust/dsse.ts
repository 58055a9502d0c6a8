import { decodeBase64Strict, encodeBase64 } from './base64.js';
import { KEYID_RE, signBytes, verifyBytes } from './ed25519.js';
import { isJsonObject, parseStrictJson, StrictJsonError } from './strict-json.js';

/** The only payload type countersign signs and accepts. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** DSSE's pre-authentication encoding: `DSSEv1 SP len(type) SP type SP len(body) SP body`, lengths in bytes. */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `, 'utf8'), type, Buffer.from(` ${payload.length} `, 'utf8'), payload]);
}

/** An envelope as received, its payload still bytes: nothing in it is trusted until verified. */
export interface Envelope {
  readonly payloadType: string;
  /** The payload bytes exactly as the base64 in the envelope encodes them. */
  readonly payload: Buffer;
  /** The base64 text as received (export sends it back unchanged). */
  readonly payloadBase64: string;
  /** The envelope's keyid: a hint to find the key; the payload names the signer again. */
  readonly keyid: string;
  readonly sig: Buffer;
  readonly sigBase64: string;
}

export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
}

const ENVELOPE_KEYS = new Set(['payloadType', 'payload', 'signatures']);
const SIGNATURE_KEYS = new Set(['keyid', 'sig']);

/**
 * Reads a DSSE envelope with exactly one signature. Strict: unknown keys, duplicate keys, bad
 * base64 and more than one signature are errors (a document is signed by one key).
 */
export function parseEnvelope(bytes: Uint8Array, maxBytes: number): Envelope {
  let doc: unknown;
  try {
    doc = parseStrictJson(bytes, { maxBytes, maxDepth: 4 });
  } catch (err) {
    if (err instanceof StrictJsonError) throw new EnvelopeError(`the envelope is not strict JSON: ${err.message}`);
    throw err;
  }
  if (!isJsonObject(doc)) throw new EnvelopeError('the envelope must be a JSON object with payloadType, payload and signatures');
  for (const key of Object.keys(doc)) if (!ENVELOPE_KEYS.has(key)) throw new EnvelopeError(`the envelope has an unknown key ${JSON.stringify(key)}`);
  const { payloadType, payload, signatures } = doc;
  if (typeof payloadType !== 'string') throw new EnvelopeError('envelope.payloadType must be a string');
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE) throw new EnvelopeError(`envelope.payloadType must be ${IN_TOTO_PAYLOAD_TYPE} (got ${JSON.stringify(payloadType.slice(0, 80))})`);
  if (typeof payload !== 'string') throw new EnvelopeError('envelope.payload must be a base64 string');
  const payloadBytes = decodeBase64Strict(payload);
  if (payloadBytes === undefined) throw new EnvelopeError('envelope.payload is not canonical, padded base64');
  if (!Array.isArray(signatures) || signatures.length !== 1) throw new EnvelopeError('envelope.signatures must hold exactly one signature');
  const [signature] = signatures as unknown[];
  if (!isJsonObject(signature)) throw new EnvelopeError('envelope.signatures[0] must be an object with keyid and sig');
  for (const key of Object.keys(signature)) if (!SIGNATURE_KEYS.has(key)) throw new EnvelopeError(`envelope.signatures[0] has an unknown key ${JSON.stringify(key)}`);
  const { keyid, sig } = signature;
  if (typeof keyid !== 'string' || !KEYID_RE.test(keyid)) throw new EnvelopeError('envelope.signatures[0].keyid must be "ed25519:" followed by 64 hex digits');
  if (typeof sig !== 'string') throw new EnvelopeError('envelope.signatures[0].sig must be a base64 string');
  const sigBytes = decodeBase64Strict(sig);
  if (sigBytes === undefined || sigBytes.length !== 64) throw new EnvelopeError('envelope.signatures[0].sig must be 64 bytes of canonical base64');
  return { payloadType, payload: payloadBytes, payloadBase64: payload, keyid, sig: sigBytes, sigBase64: sig };
}

/** True when the signature verifies over PAE(payloadType, payload) with the raw public key. */
export function verifyEnvelope(envelope: Envelope, publicKey: Uint8Array): boolean {
  return verifyBytes(envelope.sig, pae(envelope.payloadType, envelope.payload), publicKey);
}

/** The envelope as one line of JSON (export, submit); the payload base64 is the signed text as received. */
export function envelopeJson(envelope: Pick<Envelope, 'payloadType' | 'payloadBase64' | 'keyid' | 'sigBase64'>): string {
  return JSON.stringify({ payloadType: envelope.payloadType, payload: envelope.payloadBase64, signatures: [{ keyid: envelope.keyid, sig: envelope.sigBase64 }] });
}

/** Signs payload bytes into an envelope (the CLI side). */
export function signEnvelope(payload: Uint8Array, secretKey: Uint8Array, keyid: string): string {
  const sig = signBytes(pae(IN_TOTO_PAYLOAD_TYPE, payload), secretKey);
  return envelopeJson({ payloadType: IN_TOTO_PAYLOAD_TYPE, payloadBase64: encodeBase64(payload), keyid, sigBase64: encodeBase64(sig) });
}
