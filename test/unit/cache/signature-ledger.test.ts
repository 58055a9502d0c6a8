import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ledgerDigest, SignatureLedger } from '../../../src/cache/signature-ledger.js';
import type { SignedMessage } from '../../../src/verify/signature-results.js';

const dir = mkdtempSync(join(tmpdir(), 'cs-ledger-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = () => join(dir, `ledger-${++files}.db`);

const signed = (pkg: string, version: string, key = 'KEY'): SignedMessage => ({ key, message: `${pkg}@${version}:sha512-x`, sig: `sig-${pkg}-${version}` });
const digests = (list: readonly SignedMessage[]) => new Set(list.map((s) => ledgerDigest(s.key, s.message, s.sig)));

function open(path: string, options: Parameters<typeof SignatureLedger.open>[1] = {}): SignatureLedger {
  const ledger = SignatureLedger.open(path, options);
  assert.ok(ledger, 'opened');
  return ledger;
}

describe('ledgerDigest', () => {
  it('tells apart triples whose joined text is the same', () => {
    const seen = new Set([
      ledgerDigest('ab', 'c', 'd'),
      ledgerDigest('a', 'bc', 'd'),
      ledgerDigest('a', 'b', 'cd'),
      ledgerDigest('a', 'b\nc', 'd'),
      ledgerDigest('a', 'b', '\ncd'),
      ledgerDigest('1:a', '', 'b'),
      ledgerDigest('', '1:a', 'b'),
    ]);
    assert.equal(seen.size, 7);
  });
});

describe('SignatureLedger', () => {
  it('keeps the valid signatures of a package across a restart', () => {
    const path = freshPath();
    const list = [signed('a', '1.0.0'), signed('a', '1.0.1')];
    const first = open(path);
    assert.equal(first.knows('npmjs a'), false);
    first.record('npmjs a', list);
    first.close();
    const second = open(path);
    assert.equal(second.knows('npmjs a'), true);
    assert.deepEqual(second.validFor('npmjs a'), digests(list));
    assert.deepEqual(second.validFor('npmjs b'), new Set());
    assert.equal(second.size, 2);
    second.close();
  });

  it('makes the latest record what is kept: versions gone are dropped, new ones added', () => {
    const ledger = open(freshPath());
    ledger.record('u p', [signed('p', '1.0.0'), signed('p', '2.0.0')]);
    ledger.record('u p', [signed('p', '2.0.0'), signed('p', '3.0.0')]);
    assert.deepEqual(ledger.validFor('u p'), digests([signed('p', '2.0.0'), signed('p', '3.0.0')]));
    assert.equal(ledger.size, 2);
    ledger.close();
  });

  it('files results per package and per key material', () => {
    const ledger = open(freshPath());
    ledger.record('u p', [signed('p', '1.0.0', 'KEY-A')]);
    assert.equal(ledger.validFor('u p').has(ledgerDigest('KEY-B', 'p@1.0.0:sha512-x', 'sig-p-1.0.0')), false);
    assert.equal(ledger.validFor('other p').size, 0);
    ledger.close();
  });

  it('drops the least recently used packages whole once over its bound', () => {
    let clock = 1000;
    const ledger = open(freshPath(), { maxRows: 10, now: () => clock });
    const versions = (pkg: string, n: number) => Array.from({ length: n }, (_, i) => signed(pkg, `1.0.${i}`));
    ledger.record('u old', versions('old', 4));
    clock += 10;
    ledger.record('u used', versions('used', 4));
    clock += 10;
    ledger.record('u old', versions('old', 4)); // used again: now the most recent
    clock += 10;
    ledger.record('u new', versions('new', 4));
    assert.equal(ledger.knows('u used'), false, 'least recently used, dropped');
    assert.equal(ledger.validFor('u used').size, 0);
    assert.equal(ledger.validFor('u old').size, 4);
    assert.equal(ledger.validFor('u new').size, 4);
    assert.equal(ledger.size, 8);
    ledger.close();
  });

  it('never drops the package it is recording, even when that one alone is over the bound', () => {
    const ledger = open(freshPath(), { maxRows: 3 });
    ledger.record('u big', Array.from({ length: 5 }, (_, i) => signed('big', `1.0.${i}`)));
    assert.equal(ledger.validFor('u big').size, 5);
    ledger.close();
  });

  it('writes recordSoon on flush and on close, the latest call per package winning', () => {
    const path = freshPath();
    const ledger = open(path);
    ledger.recordSoon('u p', [signed('p', '1.0.0')]);
    ledger.recordSoon('u p', [signed('p', '2.0.0')]);
    assert.equal(ledger.knows('u p'), false, 'not yet written');
    ledger.flush();
    assert.deepEqual(ledger.validFor('u p'), digests([signed('p', '2.0.0')]));
    ledger.recordSoon('u q', [signed('q', '1.0.0')]);
    ledger.close();
    const again = open(path);
    assert.equal(again.validFor('u q').size, 1);
    again.close();
  });

  it('replaces a file that is not a ledger and says so', () => {
    const path = freshPath();
    writeFileSync(path, 'this is not a database, just some bytes '.repeat(200));
    const told: string[] = [];
    const ledger = open(path, { onError: (message) => told.push(message) });
    assert.equal(told.length, 1);
    assert.match(told[0]!, /unreadable and has been started afresh/);
    ledger.record('u p', [signed('p', '1.0.0')]);
    assert.equal(ledger.validFor('u p').size, 1);
    ledger.close();
  });

  it('answers undefined when no ledger can be opened at all', () => {
    const told: string[] = [];
    const ledger = SignatureLedger.open(join(dir, 'no-such-dir', 'deeper', 'ledger.db'), { onError: (message) => told.push(message) });
    assert.equal(ledger, undefined);
    assert.match(told.join('\n'), /cannot be opened; signatures will be verified after every restart/);
  });

  it('steps aside after a failure: empty answers, no throw, one message', () => {
    const told: string[] = [];
    const ledger = open(freshPath(), { onError: (message) => told.push(message) });
    ledger.record('u p', [signed('p', '1.0.0')]);
    ledger.close(); // every statement now fails
    assert.equal(ledger.validFor('u p').size, 0);
    assert.equal(ledger.knows('u p'), false);
    ledger.record('u p', [signed('p', '1.0.0')]);
    ledger.recordSoon('u p', [signed('p', '1.0.0')]);
    ledger.flush();
    assert.equal(told.length, 1);
    assert.match(told[0]!, /failed and is off until restart/);
  });
});
