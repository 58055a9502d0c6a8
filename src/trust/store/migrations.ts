import type { Database } from 'better-sqlite3';

/**
 * Versioned schema migrations, applied in order inside one transaction each; `PRAGMA user_version`
 * holds the version reached. A migration is never edited once released: add the next one.
 */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'append-only hash-chained log of trust entries, metadata, audit queue',
    sql: `
      CREATE TABLE entries (
        seq INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('document', 'key', 'revocation', 'exemption')),
        seen_at INTEGER NOT NULL,
        body BLOB NOT NULL,
        digest TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      ) STRICT;
      CREATE UNIQUE INDEX entries_document_digest ON entries (digest) WHERE kind = 'document';
      CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries BEGIN SELECT RAISE(ABORT, 'the trust log is append-only'); END;
      CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries BEGIN SELECT RAISE(ABORT, 'the trust log is append-only'); END;
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
      CREATE TABLE queue (
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        sha512 TEXT,
        reasons TEXT NOT NULL,
        requests INTEGER NOT NULL,
        clients INTEGER NOT NULL,
        first_asked INTEGER NOT NULL,
        last_asked INTEGER NOT NULL,
        PRIMARY KEY (name, version)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX queue_rank ON queue (clients DESC, requests DESC, last_asked DESC);
      CREATE TABLE queue_clients (
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        client TEXT NOT NULL,
        PRIMARY KEY (name, version, client)
      ) STRICT, WITHOUT ROWID;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Brings the database to SCHEMA_VERSION. Returns the version it started from. */
export function migrate(db: Database): number {
  const from = db.pragma('user_version', { simple: true }) as number;
  for (const migration of MIGRATIONS) {
    if (migration.version <= from) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
  return from;
}
