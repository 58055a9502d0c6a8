import type { Database as Db, Statement } from 'better-sqlite3';

/** Demand gathered in memory since the last flush, for one hidden name@version. */
export interface DemandDelta {
  readonly name: string;
  readonly version: string;
  readonly sha512: string | undefined;
  readonly reasons: readonly string[];
  readonly requests: number;
  /** Hashed client identities (never raw addresses). */
  readonly clients: ReadonlySet<string>;
  readonly firstAsked: number;
  readonly lastAsked: number;
}

export interface QueueRow {
  readonly name: string;
  readonly version: string;
  readonly sha512: string | undefined;
  readonly reasons: readonly string[];
  readonly requests: number;
  readonly clients: number;
  readonly firstAsked: number;
  readonly lastAsked: number;
}

interface Row {
  name: string;
  version: string;
  sha512: string | null;
  reasons: string;
  requests: number;
  clients: number;
  first_asked: number;
  last_asked: number;
}

/** Distinct clients remembered per version; beyond this the count stops growing. */
export const MAX_CLIENTS_PER_VERSION = 10_000;
/** Rows kept; the least recently asked go first. */
export const MAX_QUEUE_ROWS = 50_000;

/** The audit queue's demand rows. Unlike the log, this table is mutable and not chained. */
export class QueueTable {
  readonly #db: Db;
  readonly #addClient: Statement<[string, string, string]>;
  readonly #upsert: Statement<[string, string, string | null, string, number, number, number, number]>;
  readonly #clientsOf: Statement<[string, string], number>;
  readonly #list: Statement<[number, number], Row>;
  readonly #delete: Statement<[string, string]>;
  readonly #deleteClients: Statement<[string, string]>;
  readonly #count: Statement<[], number>;
  readonly #trim: Statement<[number]>;
  readonly #trimClients: Statement<[]>;

  constructor(db: Db) {
    this.#db = db;
    this.#addClient = db.prepare('INSERT OR IGNORE INTO queue_clients (name, version, client) VALUES (?, ?, ?)');
    this.#clientsOf = db.prepare<[string, string], number>('SELECT clients FROM queue WHERE name = ? AND version = ?').pluck();
    this.#upsert = db.prepare(`
      INSERT INTO queue (name, version, sha512, reasons, requests, clients, first_asked, last_asked) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (name, version) DO UPDATE SET
        sha512 = excluded.sha512, reasons = excluded.reasons,
        requests = requests + excluded.requests, clients = clients + excluded.clients,
        first_asked = min(first_asked, excluded.first_asked), last_asked = max(last_asked, excluded.last_asked)`);
    this.#list = db.prepare<[number, number], Row>('SELECT * FROM queue ORDER BY clients DESC, requests DESC, last_asked DESC LIMIT ? OFFSET ?');
    this.#delete = db.prepare('DELETE FROM queue WHERE name = ? AND version = ?');
    this.#deleteClients = db.prepare('DELETE FROM queue_clients WHERE name = ? AND version = ?');
    this.#count = db.prepare<[], number>('SELECT count(*) FROM queue').pluck();
    this.#trim = db.prepare('DELETE FROM queue WHERE (name, version) IN (SELECT name, version FROM queue ORDER BY last_asked LIMIT ?)');
    this.#trimClients = db.prepare('DELETE FROM queue_clients WHERE NOT EXISTS (SELECT 1 FROM queue q WHERE q.name = queue_clients.name AND q.version = queue_clients.version)');
  }

  /** Adds a batch of demand in one transaction. */
  add(deltas: Iterable<DemandDelta>): void {
    this.#db.transaction(() => {
      for (const d of deltas) {
        const known = this.#clientsOf.get(d.name, d.version) ?? 0;
        let added = 0;
        for (const client of d.clients) {
          if (known + added >= MAX_CLIENTS_PER_VERSION) break;
          added += this.#addClient.run(d.name, d.version, client).changes;
        }
        this.#upsert.run(d.name, d.version, d.sha512 ?? null, JSON.stringify(d.reasons), d.requests, added, d.firstAsked, d.lastAsked);
      }
      const excess = this.#count.get()! - MAX_QUEUE_ROWS;
      if (excess > 0) {
        this.#trim.run(excess);
        this.#trimClients.run();
      }
    })();
  }

  /** Most wanted first: distinct clients, then requests, then the most recent. */
  list(limit: number, offset = 0): QueueRow[] {
    return this.#list.all(limit, offset).map((r) => ({
      name: r.name,
      version: r.version,
      sha512: r.sha512 ?? undefined,
      reasons: JSON.parse(r.reasons) as string[],
      requests: r.requests,
      clients: r.clients,
      firstAsked: r.first_asked,
      lastAsked: r.last_asked,
    }));
  }

  remove(name: string, version: string): void {
    this.#db.transaction(() => {
      this.#delete.run(name, version);
      this.#deleteClients.run(name, version);
    })();
  }

  count(): number {
    return this.#count.get()!;
  }
}
