import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { decodeBase64Strict } from './base64.js';
import { parseEnvelope, verifyEnvelope } from './dsse.js';
import { documentId, eventFromEntry } from './events.js';
import { parseStatement } from './statement.js';
import { ChainWalker, type ChainHead } from './store/chain.js';
import { EntryLog } from './store/entry-log.js';
import { openTrustDb } from './store/trust-db.js';
import { TrustIndex } from './trust-index.js';
import { TRUST_DB_FILE } from './trust-store.js';

export interface StoreReport {
  readonly path: string;
  readonly entries: number;
  readonly documents: number;
  /** The last entry whose link verified. */
  readonly head: ChainHead;
  /** Empty when everything verified. */
  readonly problems: readonly string[];
}

/**
 * `countersign store verify`: walks the whole log without trusting it. Every link of the hash
 * chain, the head recorded beside it (a deleted tail), each entry's digest, and every document's
 * Ed25519 signature again, with the key as enrolled before the document in log order. An
 * `anchor` (a seq and hash written down earlier, e.g. in a backup's name) must still be in the log.
 */
export function verifyStore(dataDir: string, anchor?: ChainHead): StoreReport {
  const path = join(dataDir, TRUST_DB_FILE);
  const db = openTrustDb(path, { create: false });
  try {
    const log = new EntryLog(db);
    const walker = new ChainWalker();
    const index = new TrustIndex();
    const problems: string[] = [];
    let entries = 0;
    let documents = 0;
    let anchorSeen = false;
    for (const entry of log.after(0)) {
      entries++;
      if (!walker.next(entry)) break;
      if (anchor && entry.seq === anchor.seq) {
        anchorSeen = true;
        if (entry.hash !== anchor.hash) problems.push(`entry ${anchor.seq} has hash ${entry.hash.slice(0, 16)}…, not the anchor ${anchor.hash.slice(0, 16)}…: the log was rewritten`);
      }
      try {
        if (entry.kind === 'document') {
          documents++;
          const envelope = parseEnvelope(entry.body, Math.max(entry.body.length, 1));
          if (documentId(envelope) !== entry.digest) problems.push(`entry ${entry.seq}: its digest column does not match the document`);
          const key = index.key(envelope.keyid);
          if (!key) problems.push(`entry ${entry.seq}: signed by ${envelope.keyid}, which was not enrolled before it`);
          else if (!verifyEnvelope(envelope, decodeBase64Strict(key.publicKey)!)) problems.push(`entry ${entry.seq}: the Ed25519 signature does not verify with the key of ${key.principal}`);
          else if (parseStatement(envelope.payload, envelope.payload.length + 1).signer !== envelope.keyid) problems.push(`entry ${entry.seq}: predicate.signer does not name the signing key`);
        } else if (createHash('sha256').update(entry.body).digest('hex') !== entry.digest) {
          problems.push(`entry ${entry.seq}: its digest column does not match its body`);
        }
        index.apply(eventFromEntry(entry.kind, entry.body, entry.seenAt, Math.max(entry.body.length, 1)));
      } catch (err) {
        problems.push(`entry ${entry.seq} (${entry.kind}) cannot be read: ${(err as Error).message}`);
      }
    }
    walker.finish(log.head());
    if (anchor && !anchorSeen && walker.problems.length === 0) problems.push(`the anchor entry ${anchor.seq} is not in the log (it ends at ${walker.head.seq})`);
    return { path, entries, documents, head: walker.head, problems: [...walker.problems, ...problems] };
  } finally {
    db.close();
  }
}
