import { hash } from 'node:crypto';
import { rmSync } from 'node:fs';
import Database, { type Database as Db, type Statement } from 'better-sqlite3';
import type { SignedMessage } from '../verify/signature-results.js';

/** Signatures kept at most (about 100 bytes each on disk); the least recently used packages go first. */
export const DEFAULT_MAX_ROWS = 1_000_000;

/** How long `recordSoon` waits, so that writing the rows never delays the response that needed them. */
const RECORD_DELAY_MS = 1000;

const SCHEMA_VERSION = 1;

export interface LedgerOptions {
  readonly maxRows?: number;
  /** Told about a failure once the ledger has stepped aside; the server keeps serving without it. */
  readonly onError?: (message: string, err: unknown) => void;
  readonly now?: () => number;
}

/**
 * The digest a result is kept under: SHA-256 over the key material, the message and the signature,
 * each preceded by its length, so that no two different triples share a digest.
 */
export function ledgerDigest(key: string, message: string, sig: string): string {
  return hash('sha256', `${key.length}:${key}${message.length}:${message}${sig.length}:${sig}`, 'base64url');
}

/**
 * Registry signatures that verified, kept on disk (`signatures.db` in the data dir), so that a
 * restarted server, or one whose memory cache dropped a large packument, does not verify again the
 * thousands of signatures it has verified before. It is a cache: signatures are filed per package
 * under a digest of key + message + signature (never reused for another triple), a lost or
 * unreadable file only costs verifications, and any SQLite failure turns the ledger off rather
 * than failing a request. Only valid signatures are kept, so no damaged row can turn a failed
 * verification into a pass. Bounded by `maxRows`.
 */
export class SignatureLedger {
  readonly #db: Db;
  readonly #maxRows: number;
  readonly #onError: (message: string, err: unknown) => void;
  readonly #now: () => number;
  readonly #select: Statement<[string], string>;
  readonly #any: Statement<[string], number>;
  readonly #insert: Statement<[string, string]>;
  readonly #remove: Statement<[string, string]>;
  readonly #touch: Statement<[string, number]>;
  readonly #oldest: Statement<[], string>;
  readonly #forget: Statement<[string]>;
  readonly #forgetPackage: Statement<[string]>;
  #rows: number;
  #lastStamp = 0;
  #failed = false;
  readonly #pending = new Map<string, readonly SignedMessage[]>();
  #timer: NodeJS.Timeout | undefined;

  private constructor(db: Db, options: LedgerOptions) {
    this.#db = db;
    this.#maxRows = options.maxRows ?? DEFAULT_MAX_ROWS;
    this.#onError = options.onError ?? (() => {});
    this.#now = options.now ?? Date.now;
    this.#select = db.prepare<[string], string>('SELECT digest FROM verified WHERE package = ?').pluck();
    this.#any = db.prepare<[string], number>('SELECT 1 FROM packages WHERE package = ?').pluck();
    this.#insert = db.prepare('INSERT OR IGNORE INTO verified (package, digest) VALUES (?, ?)');
    this.#remove = db.prepare('DELETE FROM verified WHERE package = ? AND digest = ?');
    this.#touch = db.prepare('INSERT INTO packages (package, seen) VALUES (?, ?) ON CONFLICT (package) DO UPDATE SET seen = excluded.seen');
    this.#oldest = db.prepare<[], string>('SELECT package FROM packages ORDER BY seen LIMIT 1').pluck();
    this.#forget = db.prepare('DELETE FROM verified WHERE package = ?');
    this.#forgetPackage = db.prepare('DELETE FROM packages WHERE package = ?');
    this.#rows = db.prepare<[], number>('SELECT count(*) FROM verified').pluck().get() ?? 0;
  }

  /**
   * Opens (or creates) the ledger at `path`. A file that is not a usable ledger (corrupt, another
   * schema) is replaced by an empty one; when even that fails, the failure goes to `onError` and
   * the answer is undefined: the server then verifies everything, as without a ledger.
   */
  static open(path: string, options: LedgerOptions = {}): SignatureLedger | undefined {
    try {
      return new SignatureLedger(openDb(path), options);
    } catch (first) {
      try {
        for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
        const ledger = new SignatureLedger(openDb(path), options);
        options.onError?.(`the signature ledger ${path} was unreadable and has been started afresh`, first);
        return ledger;
      } catch (err) {
        options.onError?.(`the signature ledger ${path} cannot be opened; signatures will be verified after every restart`, err);
        return undefined;
      }
    }
  }

  /** True when results are kept for `pkg` (then a large body is not worth scanning as it arrives). */
  knows(pkg: string): boolean {
    return this.#guard(() => this.#any.get(pkg) === 1, false);
  }

  /** The `ledgerDigest`s of the valid signatures kept for `pkg`. */
  validFor(pkg: string): ReadonlySet<string> {
    return this.#guard(() => new Set(this.#select.all(pkg)), new Set<string>());
  }

  /**
   * Makes `valid` (the package's current signatures that verified) what is kept for `pkg`, writing
   * only what changed, and marks the package used now. Over the bound, the least recently used
   * packages are dropped whole. One transaction.
   */
  record(pkg: string, valid: Iterable<SignedMessage>): void {
    this.#guard(() => {
      const stale = new Set(this.#select.all(pkg));
      const added: string[] = [];
      for (const s of valid) {
        const digest = ledgerDigest(s.key, s.message, s.sig);
        if (!stale.delete(digest)) added.push(digest);
      }
      this.#db.transaction(() => {
        for (const digest of added) this.#rows += this.#insert.run(pkg, digest).changes;
        for (const digest of stale) this.#rows -= this.#remove.run(pkg, digest).changes;
        this.#touch.run(pkg, this.#stamp());
        if (this.#rows > this.#maxRows) {
          // Down to 90%, so that a full ledger does not prune on every record.
          while (this.#rows > this.#maxRows * 0.9) {
            const oldest = this.#oldest.get();
            if (oldest === undefined || oldest === pkg) break;
            this.#rows -= this.#forget.run(oldest).changes;
            this.#forgetPackage.run(oldest);
          }
        }
      })();
    }, undefined);
  }

  /** `record`, a moment later (the latest call per package wins); `flush` and `close` write at once. */
  recordSoon(pkg: string, valid: readonly SignedMessage[]): void {
    if (this.#failed) return;
    this.#pending.set(pkg, valid);
    this.#timer ??= setTimeout(() => this.flush(), RECORD_DELAY_MS).unref();
  }

  /** Writes what `recordSoon` holds. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const pending = [...this.#pending];
    this.#pending.clear();
    for (const [pkg, valid] of pending) this.record(pkg, valid);
  }

  /** Rows held. */
  get size(): number {
    return this.#rows;
  }

  close(): void {
    if (!this.#db.open) return;
    this.flush();
    this.#db.close();
  }

  /** Strictly increasing, so that the order of use survives several records in one millisecond. */
  #stamp(): number {
    this.#lastStamp = Math.max(this.#now(), this.#lastStamp + 1);
    return this.#lastStamp;
  }

  #guard<T>(work: () => T, otherwise: T): T {
    if (this.#failed) return otherwise;
    try {
      return work();
    } catch (err) {
      this.#failed = true;
      this.#onError('the signature ledger failed and is off until restart; signatures are verified as if it were empty', err);
      return otherwise;
    }
  }
}

function openDb(path: string): Db {
  const db = new Database(path);
  try {
    // A cache: a crash may lose the last commits, which only means verifying those again.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version !== SCHEMA_VERSION) {
      db.exec(`DROP TABLE IF EXISTS verified;
        DROP TABLE IF EXISTS packages;
        CREATE TABLE verified (package TEXT NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (package, digest)) WITHOUT ROWID;
        CREATE TABLE packages (package TEXT PRIMARY KEY, seen INTEGER NOT NULL);
        CREATE INDEX packages_seen ON packages (seen);
        PRAGMA user_version = ${SCHEMA_VERSION};`);
    }
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
