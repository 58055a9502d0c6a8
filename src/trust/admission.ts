import { CountersignError } from '../errors.js';
import { decodeBase64Strict } from './base64.js';
import { EnvelopeError, parseEnvelope, verifyEnvelope, type Envelope } from './dsse.js';
import { documentId } from './events.js';
import { shortKeyid, signatureStanding } from './key-standing.js';
import { parseStatement, StatementError, type Statement } from './statement.js';
import type { TrustSnapshot } from './trust-index.js';

export interface AdmittedDocument {
  readonly id: string;
  readonly envelope: Envelope;
  readonly statement: Statement;
}

export interface AdmissionLimits {
  readonly maxDocumentBytes: number;
  readonly maxKeyValidityMs: number;
}

/** The envelope of a submitted document, or ECS_DOCUMENT_INVALID saying what is wrong. */
export function readEnvelope(bytes: Uint8Array, maxDocumentBytes: number): Envelope {
  try {
    return parseEnvelope(bytes, maxDocumentBytes);
  } catch (err) {
    if (err instanceof EnvelopeError) throw new CountersignError('ECS_DOCUMENT_INVALID', `${err.message}; create documents with countersign audit or countersign sign`);
    throw err;
  }
}

/**
 * Decides whether a submitted document may enter the log, in the order DESIGN §4 sets: with the
 * envelope read (readEnvelope), find the enrolled key named by its keyid, verify the signature over PAE of the
 * received payload bytes, and only then parse those bytes. The statement must name the same key
 * as its signer, and the key must be in good standing now for what the document does.
 * Throws CountersignError with a code and what to do; pure apart from the clock passed in.
 */
export function admitDocument(envelope: Envelope, snapshot: TrustSnapshot, now: number, limits: AdmissionLimits): AdmittedDocument {
  const key = snapshot.key(envelope.keyid);
  if (!key) {
    throw new CountersignError('ECS_KEY_UNKNOWN', `${shortKeyid(envelope.keyid)} is not enrolled here; send its public key (countersign keygen prints it) to an admin, who enrols it with countersign keys add`, {
      details: { keyid: envelope.keyid },
    });
  }
  if (!verifyEnvelope(envelope, decodeBase64Strict(key.publicKey)!)) {
    throw new CountersignError('ECS_SIGNATURE_INVALID', `the signature does not verify with the enrolled key of ${key.principal} (${shortKeyid(key.keyid)}); the document was changed after signing or signed with another key: sign it again`);
  }
  let statement: Statement;
  try {
    statement = parseStatement(envelope.payload, limits.maxDocumentBytes);
  } catch (err) {
    if (err instanceof StatementError) throw new CountersignError('ECS_DOCUMENT_INVALID', `${err.message}; create documents with countersign audit or countersign sign`);
    throw err;
  }
  if (statement.signer !== envelope.keyid) {
    throw new CountersignError('ECS_DOCUMENT_INVALID', `predicate.signer is ${shortKeyid(statement.signer)} but the envelope is signed by ${shortKeyid(envelope.keyid)}: the signed bytes must name the signing key`);
  }
  if (statement.type === 'revocation') {
    // Anyone holding a key may destroy it; nothing else may revoke through a document.
    if (statement.keyid !== statement.signer) {
      throw new CountersignError('ECS_DOCUMENT_INVALID', 'a revocation document must be signed by the key it revokes; to revoke another key, ask an admin (countersign keys revoke)');
    }
    return { id: documentId(envelope), envelope, statement };
  }
  const role = statement.type === 'audit' ? 'audit' : 'publish';
  const standing = signatureStanding(key, snapshot.revocation(key.keyid), { role, name: statement.subject.name, seenAt: now }, limits.maxKeyValidityMs);
  if (!standing.ok) {
    throw new CountersignError('ECS_KEY_NOT_VALID', `${standing.why}; ask an admin to enrol a key that may sign this (a new key for the same principal is a rotation)`, {
      details: { keyid: key.keyid },
    });
  }
  return { id: documentId(envelope), envelope, statement };
}
