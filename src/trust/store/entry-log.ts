import type { Database as Db, Statement } from 'better-sqlite3';
import { CountersignError } from '../../errors.js';
import type { EntryKind } from '../events.js';
import { entryHash, GENESIS, type ChainHead, type StoredLink } from './chain.js';

export interface StoredEntry extends StoredLink {
  readonly kind: EntryKind;
  readonly body: Buffer;
  /** Documents: their id (dedupes resubmissions); other kinds: sha256 of the body. */
  readonly digest: string;
}

interface Row {
  seq: number;
  kind: EntryKind;
  seen_at: number;
  body: Buffer;
  digest: string;
  prev_hash: string;
  hash: string;
}

function toEntry(row: Row): StoredEntry {
  return { seq: row.seq, kind: row.kind, seenAt: row.seen_at, body: row.body, digest: row.digest, prevHash: row.prev_hash, hash: row.hash };
}

/**
 * The append-only, hash-chained log in `entries`. Appends run in an IMMEDIATE transaction (the
 * write lock is taken before the head is read, so the server and a CLI beside it never fork the
 * chain), and the head is recorded in `meta` in the same transaction, so that a deleted tail is
 * noticed. Statements are prepared once.
 */
export class EntryLog {
  readonly #db: Db;
  readonly #insert: Statement<[number, string, number, Buffer, string, string, string]>;
  readonly #getHead: Statement<[], string>;
  readonly #setHead: Statement<[string]>;
  readonly #findDocument: Statement<[string], Row>;
  readonly #after: Statement<[number], Row>;
  readonly #afterOfKind: Statement<[number, string], Row>;
  readonly #pageOfKind: Statement<[number, string, number], Row>;

  constructor(db: Db) {
    this.#db = db;
    this.#insert = db.prepare('INSERT INTO entries (seq, kind, seen_at, body, digest, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.#getHead = db.prepare<[], string>("SELECT value FROM meta WHERE key = 'head'").pluck();
    this.#setHead = db.prepare("INSERT INTO meta (key, value) VALUES ('head', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    this.#findDocument = db.prepare<[string], Row>("SELECT * FROM entries WHERE kind = 'document' AND digest = ?");
    this.#after = db.prepare<[number], Row>('SELECT * FROM entries WHERE seq > ? ORDER BY seq');
    this.#afterOfKind = db.prepare<[number, string], Row>('SELECT * FROM entries WHERE seq > ? AND kind = ? ORDER BY seq');
    this.#pageOfKind = db.prepare<[number, string, number], Row>('SELECT * FROM entries WHERE seq > ? AND kind = ? ORDER BY seq LIMIT ?');
  }

  /** The head recorded beside the log (seq 0 and the genesis hash when empty). */
  head(): ChainHead {
    const text = this.#getHead.get();
    if (text === undefined) return { seq: 0, hash: GENESIS };
    const [seq, hash] = text.split(':');
    return { seq: Number(seq), hash: hash ?? '' };
  }

  /** The stored document with this id, if any. */
  findDocument(id: string): StoredEntry | undefined {
    const row = this.#findDocument.get(id);
    return row && toEntry(row);
  }

  /** Runs `fn` holding the database's write lock (nested appends join the same transaction). */
  locked<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate();
  }

  /**
   * Appends one entry and returns it, or the stored one when a document with the same digest is
   * already there (a resubmission keeps its first trusted time). Durable when this returns.
   */
  append(kind: EntryKind, body: Buffer, digest: string, seenAt: number, maxEntries: number): { entry: StoredEntry; duplicate: boolean } {
    return this.locked(() => {
      if (kind === 'document') {
        const existing = this.#findDocument.get(digest);
        if (existing) return { entry: toEntry(existing), duplicate: true };
      }
      const head = this.head();
      if (head.seq >= maxEntries) {
        throw new CountersignError('ECS_STORE_FULL', `the trust store holds ${head.seq} entries, the trust.maxEntries limit; raise it in the config (and check who submits so much)`);
      }
      const seq = head.seq + 1;
      const hash = entryHash(head.hash, { seq, kind, seenAt, body });
      this.#insert.run(seq, kind, seenAt, body, digest, head.hash, hash);
      this.#setHead.run(`${seq}:${hash}`);
      return { entry: { seq, kind, seenAt, body, digest, prevHash: head.hash, hash }, duplicate: false };
    });
  }

  /** At most `limit` entries of one kind after `seq`, read at once (no cursor stays open). */
  page(seq: number, kind: EntryKind, limit: number): StoredEntry[] {
    return this.#pageOfKind.all(seq, kind, limit).map(toEntry);
  }

  /** Entries after `seq`, in order, optionally of one kind. Lazily read. */
  *after(seq: number, kind?: EntryKind): Generator<StoredEntry> {
    const rows = kind === undefined ? this.#after.iterate(seq) : this.#afterOfKind.iterate(seq, kind);
    for (const row of rows) yield toEntry(row);
  }
}
