import { existsSync, statSync } from 'node:fs';
import Database, { type Database as Db } from 'better-sqlite3';
import { CountersignError } from '../../errors.js';
import { migrate, SCHEMA_VERSION } from './migrations.js';

export interface OpenOptions {
  /** Create the file when it does not exist (the server does; most CLI commands must not). */
  readonly create: boolean;
}

function corrupt(path: string, what: string, cause?: unknown): CountersignError {
  return new CountersignError(
    'ECS_STORE_CORRUPT',
    `the trust store ${path} is unusable: ${what}. Nothing was changed. Run \`countersign store verify --data-dir <dir>\` for details, then restore trust.db from a backup (or move it away to start an empty trust store)`,
    { cause },
  );
}

function sqliteCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/**
 * Opens trust.db: WAL (readers never block the writer, a crash never half-writes a commit),
 * synchronous=FULL (a commit is on disk before it is acknowledged), a busy timeout for the CLI
 * writing beside the server, an integrity check, then migrations. A file that is not a sound
 * database stops here with ECS_STORE_CORRUPT rather than being replaced by an empty one.
 */
export function openTrustDb(path: string, options: OpenOptions): Db {
  const exists = existsSync(path);
  if (!exists && !options.create) {
    throw new CountersignError('ECS_STORE_UNAVAILABLE', `no trust store at ${path}: pass the server's --data-dir (or --config), or enrol a key first (countersign keys add) to create it`);
  }
  if (exists && statSync(path).size === 0) throw corrupt(path, 'the file is empty (0 bytes)');
  let db: Db;
  try {
    db = new Database(path, { fileMustExist: !options.create });
  } catch (err) {
    throw new CountersignError('ECS_STORE_UNAVAILABLE', `cannot open the trust store ${path}: ${(err as Error).message}; check that the data dir exists and is writable`, { cause: err });
  }
  try {
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw corrupt(path, `SQLite integrity check failed (${String(check).slice(0, 200)})`);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new CountersignError('ECS_STORE_VERSION', `the trust store ${path} has schema version ${version}, newer than this countersign understands (${SCHEMA_VERSION}); run the newer countersign, or restore a backup made with this one`);
    }
    if (version === 0 && exists && db.prepare("SELECT count(*) AS n FROM sqlite_schema").pluck().get() !== 0) {
      throw corrupt(path, 'it holds tables but no countersign schema version');
    }
    migrate(db);
    return db;
  } catch (err) {
    db.close();
    if (err instanceof CountersignError) throw err;
    const code = sqliteCode(err);
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || code === 'SQLITE_CORRUPT_VTAB') throw corrupt(path, (err as Error).message, err);
    throw new CountersignError('ECS_STORE_UNAVAILABLE', `cannot open the trust store ${path}: ${(err as Error).message}`, { cause: err });
  }
}
