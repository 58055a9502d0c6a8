import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Database as Db } from 'better-sqlite3';
import type { TrustConfig } from '../config/types.js';
import { CountersignError, isCountersignError } from '../errors.js';
import { admitDocument, readEnvelope } from './admission.js';
import { envelopeJson } from './dsse.js';
import { documentId, eventFromEntry, type EntryKind } from './events.js';
import { collectEvidence, type PackageEvidence } from './evidence.js';
import { effectiveNotAfter, shortKeyid } from './key-standing.js';
import { adminRevocationFromRequest, exemptionBody, exemptionFromRequest, keyBody, keyRecordFromRequest, RecordError, revocationBody } from './records.js';
import { parseStatement, type Statement } from './statement.js';
import { ChainWalker } from './store/chain.js';
import { EntryLog, type StoredEntry } from './store/entry-log.js';
import { QueueTable } from './store/queue-table.js';
import { openTrustDb } from './store/trust-db.js';
import { TrustIndex } from './trust-index.js';
import type { ExemptionRecord, KeyRecord, RevocationState } from './types.js';

export const TRUST_DB_FILE = 'trust.db';

export interface TrustStoreOptions {
  readonly dataDir: string;
  readonly trust: TrustConfig;
  readonly now?: () => number;
  /** Create trust.db when missing (default true; CLI commands that only read pass false). */
  readonly create?: boolean;
}

export interface SubmitResult {
  readonly id: string;
  readonly seq: number;
  /** Trusted time: when this installation first saw the document. */
  readonly seenAt: number;
  /** The same signed document was already stored; nothing changed. */
  readonly duplicate: boolean;
  readonly statement: Statement;
}

export type KeyStatus = 'valid' | 'not-yet-valid' | 'expired' | 'revoked';

export interface KeyView {
  readonly key: KeyRecord;
  readonly status: KeyStatus;
  readonly revocation: RevocationState | undefined;
}

function recordError(err: unknown): never {
  if (err instanceof RecordError) throw new CountersignError('ECS_RECORD_INVALID', err.message);
  throw err;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The trust store: the SQLite log (the truth, durable) and the in-memory index derived from it
 * (what decisions read). Every write goes to the log under its write lock, then the index catches
 * up from the log, so writes by another process (the CLI on the server's data dir) are picked up
 * the same way as our own.
 */
export class TrustStore {
  readonly path: string;
  readonly index = new TrustIndex();
  readonly trust: TrustConfig;
  readonly #db: Db;
  readonly #log: EntryLog;
  readonly #queue: QueueTable;
  readonly #now: () => number;
  readonly #walker = new ChainWalker();
  #applied = 0;
  #dataVersion: number;
  #open = true;
  readonly clientSalt: string;

  private constructor(db: Db, path: string, options: TrustStoreOptions) {
    this.#db = db;
    this.path = path;
    this.trust = options.trust;
    this.#now = options.now ?? Date.now;
    this.#log = new EntryLog(db);
    this.#queue = new QueueTable(db);
    this.clientSalt = this.#salt();
    this.#dataVersion = this.#readDataVersion();
  }

  /** Opens (or creates) `<dataDir>/trust.db` and replays its log, checking the hash chain. */
  static open(options: TrustStoreOptions): TrustStore {
    const create = options.create ?? true;
    if (create) mkdirSync(options.dataDir, { recursive: true });
    const path = join(options.dataDir, TRUST_DB_FILE);
    const db = openTrustDb(path, { create });
    let store: TrustStore | undefined;
    try {
      store = new TrustStore(db, path, options);
      store.#catchUp();
      store.#walker.finish(store.#log.head());
      if (store.#walker.problems.length > 0) throw store.#corrupt(store.#walker.problems.join('; '));
      return store;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  get isOpen(): boolean {
    return this.#open;
  }

  /** Entries in the log (the index has applied them all). */
  get size(): number {
    return this.#applied;
  }

  epochFor(name: string): string {
    return this.index.epochFor(name);
  }

  evidence(name: string): PackageEvidence {
    return collectEvidence(this.index, name, this.trust.maxKeyValidityMs);
  }

  /** Picks up entries another process appended; cheap when nothing changed. Returns how many. */
  refresh(): number {
    this.#assertOpen();
    const version = this.#readDataVersion();
    if (version === this.#dataVersion) return 0;
    this.#dataVersion = version;
    return this.#catchUp();
  }

  /** Verifies, admits and stores one signed document (see admission.ts). Durable when it returns. */
  submit(bytes: Uint8Array): SubmitResult {
    this.#assertOpen();
    const envelope = readEnvelope(bytes, this.trust.maxDocumentBytes);
    const id = documentId(envelope);
    return this.#log.locked(() => {
      this.#catchUp();
      // A document stored before keeps its trusted time, even if its key was revoked since.
      const stored = this.#log.findDocument(id);
      // Same id = same signed bytes as the stored (verified) document, so its payload can be read.
      if (stored) return { id, seq: stored.seq, seenAt: stored.seenAt, duplicate: true, statement: parseStatement(envelope.payload, this.trust.maxDocumentBytes) };
      const now = this.#now();
      const admitted = admitDocument(envelope, this.index, now, this.trust);
      const body = Buffer.from(envelopeJson(envelope), 'utf8');
      const { entry, duplicate } = this.#log.append('document', body, id, now, this.trust.maxEntries);
      this.#catchUp();
      return { id, seq: entry.seq, seenAt: entry.seenAt, duplicate, statement: admitted.statement };
    });
  }

  /** Enrols a key (admin). Refuses a keyid enrolled before: revocation is final, rotation is a new key. */
  enrol(request: unknown): KeyRecord {
    this.#assertOpen();
    return this.#log.locked(() => {
      this.#catchUp();
      const now = this.#now();
      let record: Omit<KeyRecord, 'enrolledAt'>;
      try {
        record = keyRecordFromRequest(request, now, this.trust.maxKeyValidityMs);
      } catch (err) {
        recordError(err);
      }
      const existing = this.index.key(record.keyid);
      if (existing) {
        const revoked = this.index.revocation(record.keyid) ? ' and revoked (revocation is final)' : '';
        throw new CountersignError('ECS_KEY_EXISTS', `${shortKeyid(record.keyid)} is already enrolled for ${existing.principal}${revoked}; to rotate, generate a new key (countersign keygen) and enrol that one for the same principal`);
      }
      const body = Buffer.from(keyBody(record), 'utf8');
      this.#log.append('key', body, sha256(body), now, this.trust.maxEntries);
      this.#catchUp();
      return this.index.key(record.keyid)!;
    });
  }

  /** Revokes a key (admin). Returns the key's revocation state after it. */
  revoke(request: unknown): RevocationState {
    this.#assertOpen();
    return this.#log.locked(() => {
      this.#catchUp();
      let revocation;
      try {
        revocation = adminRevocationFromRequest(request);
      } catch (err) {
        recordError(err);
      }
      if (!this.index.key(revocation.keyid)) throw new CountersignError('ECS_KEY_UNKNOWN', `${shortKeyid(revocation.keyid)} is not enrolled here; countersign keys list shows the enrolled keys`);
      const body = Buffer.from(revocationBody(revocation), 'utf8');
      this.#log.append('revocation', body, sha256(body), this.#now(), this.trust.maxEntries);
      this.#catchUp();
      return this.index.revocation(revocation.keyid)!;
    });
  }

  /** Records baseline exemptions (admin): all of them, or none when one is invalid. */
  exempt(requests: readonly unknown[]): ExemptionRecord[] {
    this.#assertOpen();
    return this.#log.locked(() => {
      this.#catchUp();
      const now = this.#now();
      const exemptions = requests.map((r, i) => {
        try {
          return exemptionFromRequest(r, now, this.trust.maxExemptionMs);
        } catch (err) {
          if (err instanceof RecordError) throw new CountersignError('ECS_RECORD_INVALID', `exemption ${i + 1}: ${err.message}`);
          throw err;
        }
      });
      for (const e of exemptions) {
        const body = Buffer.from(exemptionBody(e), 'utf8');
        this.#log.append('exemption', body, sha256(body), now, this.trust.maxEntries);
      }
      this.#catchUp();
      return exemptions.map((e) => ({ ...e, seenAt: now }));
    });
  }

  keys(): KeyView[] {
    const now = this.#now();
    return [...this.index.keys()].map((key) => {
      const revocation = this.index.revocation(key.keyid);
      const status: KeyStatus = revocation ? 'revoked' : now < key.notBefore ? 'not-yet-valid' : now >= effectiveNotAfter(key, this.trust.maxKeyValidityMs) ? 'expired' : 'valid';
      return { key, status, revocation };
    });
  }

  /**
   * Stored documents as JSON Lines of envelopes, in log order, optionally about one package only;
   * read a page at a time, so no cursor stays open while the caller writes them out.
   */
  async *exportLines(filter: { name?: string; since?: number } = {}, pageSize = 500): AsyncGenerator<{ seq: number; line: string }> {
    let since = filter.since ?? 0;
    for (;;) {
      this.#assertOpen();
      const page = this.#log.page(since, 'document', pageSize);
      for (const entry of page) {
        since = entry.seq;
        if (filter.name !== undefined) {
          const event = this.#event(entry);
          if ((event.kind !== 'audit' && event.kind !== 'publish') || event.record.name !== filter.name) continue;
        }
        yield { seq: entry.seq, line: entry.body.toString('utf8') };
      }
      if (page.length < pageSize) return;
    }
  }

  get queue(): QueueTable {
    this.#assertOpen();
    return this.#queue;
  }

  /** Every entry after `seq`, for `store verify`. */
  entries(since = 0): Generator<StoredEntry> {
    this.#assertOpen();
    return this.#log.after(since);
  }

  headOfLog(): { seq: number; hash: string } {
    return this.#log.head();
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#db.close();
  }

  #assertOpen(): void {
    if (!this.#open) throw new CountersignError('ECS_STORE_UNAVAILABLE', 'the trust store is closed (shutting down); retry in a moment');
  }

  #readDataVersion(): number {
    return this.#db.pragma('data_version', { simple: true }) as number;
  }

  #event(entry: StoredEntry) {
    try {
      return eventFromEntry(entry.kind as EntryKind, entry.body, entry.seenAt, Math.max(this.trust.maxDocumentBytes, entry.body.length));
    } catch (err) {
      if (isCountersignError(err)) throw err;
      throw this.#corrupt(`entry ${entry.seq} (${entry.kind}) cannot be read back: ${(err as Error).message}`);
    }
  }

  /** Applies every entry after the last applied one, checking each link of the chain. */
  #catchUp(): number {
    let applied = 0;
    for (const entry of this.#log.after(this.#applied)) {
      if (!this.#walker.next(entry)) throw this.#corrupt(this.#walker.problems.join('; '));
      this.index.apply(this.#event(entry));
      this.#applied = entry.seq;
      applied++;
    }
    return applied;
  }

  #corrupt(what: string): CountersignError {
    return new CountersignError('ECS_STORE_CORRUPT', `the trust store ${this.path} failed its hash-chain check: ${what}. Run \`countersign store verify --data-dir <dir>\`, then restore trust.db from a backup`);
  }

  #salt(): string {
    const get = this.#db.prepare<[], string>("SELECT value FROM meta WHERE key = 'client_salt'").pluck();
    const existing = get.get();
    if (existing !== undefined) return existing;
    this.#db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('client_salt', ?)").run(randomBytes(32).toString('hex'));
    return get.get()!;
  }
}
