import { createHash } from 'node:crypto';
import { pae, parseEnvelope, type Envelope } from './dsse.js';
import { parseExemption, parseKeyBody, adminRevocationFromRequest } from './records.js';
import { parseStatement, type Statement } from './statement.js';
import { parseStrictJson } from './strict-json.js';
import type { AuditRecord, ExemptionRecord, KeyRecord, PublishRecord, RevocationRecord } from './types.js';

/** What one log entry holds. `document` bodies are DSSE envelopes; the others are admin records. */
export type EntryKind = 'document' | 'key' | 'revocation' | 'exemption';
export const ENTRY_KINDS: readonly EntryKind[] = ['document', 'key', 'revocation', 'exemption'];

/** The effect of one entry on the trust state. */
export type TrustEvent =
  | { readonly kind: 'key'; readonly record: KeyRecord }
  | { readonly kind: 'revocation'; readonly record: RevocationRecord }
  | { readonly kind: 'audit'; readonly record: AuditRecord }
  | { readonly kind: 'publish'; readonly record: PublishRecord }
  | { readonly kind: 'exemption'; readonly record: ExemptionRecord };

/** A document's identity: hex sha256 over exactly what was signed and the signature. */
export function documentId(envelope: Envelope): string {
  return createHash('sha256').update(pae(envelope.payloadType, envelope.payload)).update(envelope.sig).digest('hex');
}

/** The event a verified document produces. */
export function documentEvent(id: string, statement: Statement, seenAt: number): TrustEvent {
  switch (statement.type) {
    case 'audit':
      return {
        kind: 'audit',
        record: {
          id,
          keyid: statement.signer,
          ...statement.subject,
          kind: statement.kind,
          criteria: statement.criteria,
          from: statement.from,
          notes: statement.notes,
          thoroughness: statement.thoroughness,
          seenAt,
        },
      };
    case 'publish':
      return { kind: 'publish', record: { id, keyid: statement.signer, ...statement.subject, publishedAt: statement.publishedAt, seenAt } };
    case 'revocation':
      return { kind: 'revocation', record: { keyid: statement.keyid, reason: statement.reason, compromisedSince: statement.compromisedSince, by: 'self', seenAt } };
  }
}

/**
 * Reads back a stored entry. Documents were verified when they were accepted and the hash chain
 * covers their bytes, so their signatures are not checked again here (`store verify` does).
 */
export function eventFromEntry(kind: EntryKind, body: Buffer, seenAt: number, maxDocumentBytes: number): TrustEvent {
  if (kind === 'document') {
    const envelope = parseEnvelope(body, maxDocumentBytes);
    return documentEvent(documentId(envelope), parseStatement(envelope.payload, maxDocumentBytes), seenAt);
  }
  const json = parseStrictJson(body, { maxBytes: maxDocumentBytes });
  switch (kind) {
    case 'key':
      return { kind: 'key', record: parseKeyBody(json, seenAt) };
    case 'revocation':
      return { kind: 'revocation', record: { ...adminRevocationFromRequest(json), by: 'admin', seenAt } };
    case 'exemption':
      return { kind: 'exemption', record: { ...parseExemption(json), seenAt } };
  }
}
