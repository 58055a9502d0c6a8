import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { resolveTrust } from '../../src/config/load.js';
import { isCountersignError, type ErrorCode } from '../../src/errors.js';
import { importJsonLines } from '../../src/trust/import.js';
import { entryHash } from '../../src/trust/store/chain.js';
import { SCHEMA_VERSION } from '../../src/trust/store/migrations.js';
import { TrustStore } from '../../src/trust/trust-store.js';
import { verifyStore } from '../../src/trust/verify-store.js';
import { auditEnvelope, enrolment, publishEnvelope, revocationEnvelope, sha512Hex, testSigner } from '../helpers/trust-sign.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cs-trust-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const T = Date.parse('2025-03-01T00:00:00.000Z');
const SHA = sha512Hex('left-pad@1.0.0');

function open(dataDir: string, overrides: Record<string, unknown> = {}, now = () => T): TrustStore {
  return TrustStore.open({ dataDir, trust: resolveTrust(overrides), now });
}

function rejects(fn: () => unknown, code: ErrorCode, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => isCountersignError(err, code) && (message === undefined || message.test(err.message)));
}

/** A store with alice enrolled and one audit by her: entries 1 (key) and 2 (document). */
function seeded(): { dir: string; alice: ReturnType<typeof testSigner> } {
  const dir = tempDir();
  const alice = testSigner('acme/alice');
  const store = open(dir);
  store.enrol(enrolment(alice));
  store.submit(Buffer.from(auditEnvelope(alice, { name: 'left-pad', version: '1.0.0', sha512: SHA })));
  store.close();
  return { dir, alice };
}

/** Opens trust.db as an attacker would: raw SQLite, triggers dropped. */
function tamper(dir: string, sql: (db: Database.Database) => void): void {
  const db = new Database(join(dir, 'trust.db'));
  db.exec('DROP TRIGGER entries_no_update; DROP TRIGGER entries_no_delete;');
  sql(db);
  db.close();
}

describe('trust store: schema and files', () => {
  it('creates trust.db in WAL mode at the current schema version, and reopens it without migrating again', () => {
    const dir = tempDir();
    open(dir).close();
    const db = new Database(join(dir, 'trust.db'));
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all();
    assert.deepEqual(tables, ['entries', 'meta', 'queue', 'queue_clients']);
    db.close();
    const store = open(dir);
    assert.equal(store.size, 0);
    store.close();
  });

  it('refuses to start on a file that is not a sound trust store, instead of starting empty', () => {
    const garbage = tempDir();
    writeFileSync(join(garbage, 'trust.db'), Buffer.alloc(8192, 0x5a));
    rejects(() => open(garbage), 'ECS_STORE_CORRUPT', /trust\.db is unusable: .*restore trust.db from a backup/);
    const empty = tempDir();
    writeFileSync(join(empty, 'trust.db'), '');
    rejects(() => open(empty), 'ECS_STORE_CORRUPT', /the file is empty/);
    const foreign = tempDir();
    const db = new Database(join(foreign, 'trust.db'));
    db.exec('CREATE TABLE t (x)');
    db.close();
    rejects(() => open(foreign), 'ECS_STORE_CORRUPT', /no countersign schema version/);
    const newer = tempDir();
    open(newer).close();
    const n = new Database(join(newer, 'trust.db'));
    n.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    n.close();
    rejects(() => open(newer), 'ECS_STORE_VERSION', /newer than this countersign understands/);
  });

  it('keeps the log append-only inside SQLite too', () => {
    const { dir } = seeded();
    const db = new Database(join(dir, 'trust.db'));
    assert.throws(() => db.prepare('UPDATE entries SET seen_at = 0 WHERE seq = 1').run(), /append-only/);
    assert.throws(() => db.prepare('DELETE FROM entries WHERE seq = 2').run(), /append-only/);
    db.close();
  });
});

describe('trust store: the hash chain', () => {
  it('verifies an untouched store, and an anchor taken earlier', () => {
    const { dir } = seeded();
    const store = open(dir);
    const head = store.headOfLog();
    store.close();
    const report = verifyStore(dir, head);
    assert.deepEqual(report.problems, []);
    assert.equal(report.entries, 2);
    assert.equal(report.documents, 1);
    assert.deepEqual(report.head, head);
    assert.match(verifyStore(dir, { seq: 2, hash: 'f'.repeat(64) }).problems.join(), /not the anchor/);
  });

  it('detects an edited row, and the server refuses to start on it', () => {
    const { dir } = seeded();
    tamper(dir, (db) => db.prepare('UPDATE entries SET seen_at = seen_at - 86400000 WHERE seq = 2').run());
    assert.match(verifyStore(dir).problems.join(), /entry 2 was edited/);
    rejects(() => open(dir), 'ECS_STORE_CORRUPT', /entry 2 was edited/);
  });

  it('detects a deleted row in the middle and a deleted tail', () => {
    const middle = seeded();
    const bob = testSigner('acme/bob');
    const s = open(middle.dir);
    s.enrol(enrolment(bob));
    s.close();
    tamper(middle.dir, (db) => db.prepare('DELETE FROM entries WHERE seq = 2').run());
    assert.match(verifyStore(middle.dir).problems.join(), /entries 2\.\.2 are missing/);
    rejects(() => open(middle.dir), 'ECS_STORE_CORRUPT');

    const tail = seeded();
    tamper(tail.dir, (db) => db.prepare('DELETE FROM entries WHERE seq = 2').run());
    assert.match(verifyStore(tail.dir).problems.join(), /entries were deleted/);
    rejects(() => open(tail.dir), 'ECS_STORE_CORRUPT', /entries were deleted/);
  });

  it('re-verifies signatures, so a rewritten chain with a forged document is still caught', () => {
    const { dir, alice } = seeded();
    // The attacker swaps the audited digest and recomputes every hash and the head.
    const forged = auditEnvelope(alice, { name: 'left-pad', version: '1.0.0', sha512: sha512Hex('evil') });
    const original = JSON.parse(auditEnvelope(alice, { name: 'left-pad', version: '1.0.0', sha512: SHA })) as { signatures: unknown };
    const body = Buffer.from(JSON.stringify({ ...(JSON.parse(forged) as object), signatures: original.signatures }));
    tamper(dir, (db) => {
      const prev = db.prepare<[], string>('SELECT hash FROM entries WHERE seq = 1').pluck().get()!;
      const seenAt = db.prepare<[], number>('SELECT seen_at FROM entries WHERE seq = 2').pluck().get()!;
      const hash = entryHash(prev, { seq: 2, kind: 'document', seenAt, body });
      db.prepare('UPDATE entries SET body = ?, hash = ? WHERE seq = 2').run(body, hash);
      db.prepare("UPDATE meta SET value = ? WHERE key = 'head'").run(`2:${hash}`);
    });
    const problems = verifyStore(dir).problems.join();
    assert.match(problems, /entry 2: the Ed25519 signature does not verify with the key of acme\/alice/);
  });
});

describe('trust store: admission', () => {
  const doc = (text: string) => Buffer.from(text);

  it('accepts a valid document durably and dedupes a resubmission, keeping its first trusted time', () => {
    const dir = tempDir();
    const alice = testSigner('acme/alice');
    let now = T;
    const store = open(dir, {}, () => now);
    store.enrol(enrolment(alice));
    const before = store.epochFor('left-pad');
    const envelope = auditEnvelope(alice, { name: 'left-pad', version: '1.0.0', sha512: SHA });
    const first = store.submit(doc(envelope));
    assert.equal(first.duplicate, false);
    assert.equal(first.seenAt, T);
    assert.notEqual(store.epochFor('left-pad'), before, 'the package epoch moves');
    now += 60_000;
    const again = store.submit(doc(JSON.stringify(JSON.parse(envelope), null, 2)));
    assert.equal(again.duplicate, true);
    assert.equal(again.seenAt, T);
    store.close();
    const reopened = open(dir);
    assert.equal(reopened.index.audits('left-pad').length, 1);
    assert.equal(reopened.index.audits('left-pad')[0]!.seenAt, T);
    reopened.close();
  });

  it('refuses unknown keys, bad signatures, a signer mismatch, wrong roles and scopes, each with a code', () => {
    const store = open(tempDir());
    const alice = testSigner('acme/alice');
    const mallory = testSigner('acme/mallory');
    rejects(() => store.submit(doc(auditEnvelope(alice, { name: 'left-pad', version: '1.0.0', sha512: SHA }))), 'ECS_KEY_UNKNOWN', /not enrolled here/);
    store.enrol(enrolment(alice, { packages: ['left-pad'] }));
    const good = JSON.parse(auditEnvelope(alice, { name: 'left-pad', version: '1.0.0', sha512: SHA })) as { payload: string; signatures: Array<{ keyid: string; sig: string }> };
    const malloryDoc = JSON.parse(auditEnvelope(mallory, { name: 'left-pad', version: '1.0.0', sha512: SHA })) as { payload: string };
    rejects(() => store.submit(doc(JSON.stringify({ ...good, payload: malloryDoc.payload }))), 'ECS_SIGNATURE_INVALID');
    // alice signs a statement that names mallory as the signer.
    const misattributed = auditEnvelope({ ...alice, keyid: mallory.keyid }, { name: 'left-pad', version: '1.0.0', sha512: SHA });
    const relabelled = JSON.parse(misattributed) as { signatures: Array<{ keyid: string; sig: string }> };
    relabelled.signatures[0]!.keyid = alice.keyid;
    rejects(() => store.submit(doc(JSON.stringify(relabelled))), 'ECS_DOCUMENT_INVALID', /must name the signing key/);
    rejects(() => store.submit(doc(publishEnvelope(alice, { name: 'left-pad', version: '1.0.0', sha512: SHA }))), 'ECS_KEY_NOT_VALID', /not enrolled for the publish role/);
    rejects(() => store.submit(doc(auditEnvelope(alice, { name: 'right-pad', version: '1.0.0', sha512: SHA }))), 'ECS_KEY_NOT_VALID', /outside the packages/);
    rejects(() => store.submit(doc('{"payloadType":1}')), 'ECS_DOCUMENT_INVALID');
    rejects(() => store.submit(Buffer.alloc(70_000, 0x20)), 'ECS_DOCUMENT_INVALID', /over the 64000-byte cap/);
    store.close();
  });

  it('accepts a self-signed revocation, after which the key can sign nothing', () => {
    const store = open(tempDir());
    const alice = testSigner('acme/alice');
    const bob = testSigner('acme/bob');
    store.enrol(enrolment(alice));
    store.enrol(enrolment(bob));
    rejects(() => store.submit(doc(revocationEnvelope({ ...bob, keyid: bob.keyid }, 'x').replace(bob.keyid, alice.keyid))), 'ECS_SIGNATURE_INVALID');
    const r = store.submit(doc(revocationEnvelope(alice, 'key leaked')));
    assert.equal(r.statement.type, 'revocation');
    assert.equal(store.index.revocation(alice.keyid)!.voidFrom, Number.NEGATIVE_INFINITY);
    rejects(() => store.submit(doc(auditEnvelope(alice, { name: 'left-pad', version: '1.0.0', sha512: SHA }))), 'ECS_KEY_NOT_VALID', /revoked \(self-revoked: key leaked\)/);
    assert.equal(store.keys().find((k) => k.key.keyid === alice.keyid)!.status, 'revoked');
    store.close();
  });

  it('enforces maxKeyValidity at enrolment, refuses a second enrolment of a keyid, and revokes by admin', () => {
    const store = open(tempDir(), { maxKeyValidity: '30d' });
    const alice = testSigner('acme/alice');
    rejects(() => store.enrol(enrolment(alice, { notAfter: new Date(T + 31 * 86_400_000).toISOString() })), 'ECS_RECORD_INVALID', /over trust.maxKeyValidity \(30 days\)/);
    rejects(() => store.enrol(enrolment(alice, { roles: ['admin'] })), 'ECS_RECORD_INVALID', /roles must be/);
    const key = store.enrol(enrolment(alice));
    assert.equal(key.notAfter - key.notBefore, 30 * 86_400_000, 'defaults to the longest validity allowed');
    rejects(() => store.enrol(enrolment(alice)), 'ECS_KEY_EXISTS', /to rotate, generate a new key/);
    const state = store.revoke({ keyid: alice.keyid, reason: 'left the company', compromisedSince: new Date(T - 86_400_000).toISOString() });
    assert.equal(state.voidFrom, T - 86_400_000);
    rejects(() => store.revoke({ keyid: testSigner('x').keyid, reason: 'r' }), 'ECS_KEY_UNKNOWN');
    store.close();
  });

  it('picks up entries written by another process on the same file', () => {
    const dir = tempDir();
    const server = open(dir);
    const cli = open(dir);
    const alice = testSigner('acme/alice');
    cli.enrol(enrolment(alice));
    assert.equal(server.index.key(alice.keyid), undefined);
    assert.equal(server.refresh(), 1);
    assert.equal(server.index.key(alice.keyid)!.principal, 'acme/alice');
    assert.equal(server.refresh(), 0);
    // The server's own write after the CLI's keeps one chain.
    server.submit(doc(auditEnvelope(alice, { name: 'left-pad', version: '1.0.0', sha512: SHA })));
    cli.close();
    server.close();
    assert.deepEqual(verifyStore(dir).problems, []);
  });

  it('imports JSON Lines line by line, reporting and skipping bad lines', async () => {
    const store = open(tempDir());
    const alice = testSigner('acme/alice');
    store.enrol(enrolment(alice));
    const lines = [
      auditEnvelope(alice, { name: 'a', version: '1.0.0', sha512: SHA }),
      '{"not":"an envelope"}',
      '',
      auditEnvelope(testSigner('acme/stranger'), { name: 'b', version: '1.0.0', sha512: SHA }),
      auditEnvelope(alice, { name: 'c', version: '1.0.0', sha512: SHA }),
      auditEnvelope(alice, { name: 'a', version: '1.0.0', sha512: SHA }),
    ];
    const report = await importJsonLines(lines.join('\n'), (bytes) => store.submit(bytes));
    assert.equal(report.accepted, 2);
    assert.equal(report.duplicates, 1);
    assert.deepEqual(report.rejected.map((r) => [r.line, r.code]), [[2, 'ECS_DOCUMENT_INVALID'], [4, 'ECS_KEY_UNKNOWN']]);
    const seqs = async (lines: AsyncIterable<{ seq: number }>) => {
      const out: number[] = [];
      for await (const l of lines) out.push(l.seq);
      return out;
    };
    assert.deepEqual(await seqs(store.exportLines()), [2, 3]);
    assert.deepEqual(await seqs(store.exportLines({}, 1)), [2, 3], 'page by page');
    assert.deepEqual(await seqs(store.exportLines({ name: 'c' }, 1)), [3]);
    assert.deepEqual(await seqs(store.exportLines({ since: 2 })), [3]);
    store.close();
  });

  it('refuses new entries beyond trust.maxEntries', () => {
    const store = open(tempDir(), { maxEntries: 1 });
    store.enrol(enrolment(testSigner('acme/alice')));
    rejects(() => store.enrol(enrolment(testSigner('acme/bob'))), 'ECS_STORE_FULL', /trust.maxEntries/);
    store.close();
  });
});

describe('trust store: the audit queue table', () => {
  it('ranks by distinct clients, then requests, and counts each client once', () => {
    const store = open(tempDir());
    const base = { sha512: SHA, reasons: ['audits'], firstAsked: T, lastAsked: T };
    store.queue.add([
      { ...base, name: 'a', version: '1.0.0', requests: 10, clients: new Set(['c1']) },
      { ...base, name: 'b', version: '1.0.0', requests: 2, clients: new Set(['c1', 'c2']) },
      { ...base, name: 'c', version: '1.0.0', requests: 3, clients: new Set(['c3']) },
    ]);
    store.queue.add([{ ...base, name: 'a', version: '1.0.0', requests: 1, clients: new Set(['c1']), lastAsked: T + 5 }]);
    const rows = store.queue.list(10);
    assert.deepEqual(rows.map((r) => [r.name, r.clients, r.requests]), [['b', 2, 2], ['a', 1, 11], ['c', 1, 3]]);
    assert.equal(rows[1]!.lastAsked, T + 5);
    store.queue.remove('b', '1.0.0');
    assert.equal(store.queue.count(), 2);
    store.close();
  });
});
