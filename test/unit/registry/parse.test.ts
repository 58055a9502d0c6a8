import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isCountersignError } from '../../../src/errors.js';
import { parsePackument } from '../../../src/registry/parse.js';
import { MAX_SIGNATURES } from '../../../src/registry/facts.js';
import { loadRealPackument, packumentArb, REAL_PACKUMENT_NAME } from '../../helpers/packument-gen.js';

const NAME = 'demo';
const SHA512_B64 = Buffer.alloc(64, 1).toString('base64');
const SHA512_HEX = '01'.repeat(64);

function manifest(version: string, extra: Record<string, unknown> = {}, dist: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: NAME, version, dist: { integrity: `sha512-${SHA512_B64}`, tarball: `https://registry.npmjs.org/${NAME}/-/${NAME}-${version}.tgz`, ...dist }, ...extra };
}

function packument(versions: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: NAME, 'dist-tags': { latest: '1.0.0' }, versions, time: { created: 'c', modified: 'm' }, ...extra };
}

function assertInvalid(fn: () => unknown, messagePart: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isCountersignError(err, 'ECS_UPSTREAM_INVALID_JSON'), `expected ECS_UPSTREAM_INVALID_JSON, got ${String(err)}`);
    assert.match(err.message, messagePart);
    return true;
  });
}

function factsOf(dist: Record<string, unknown>, extra: Record<string, unknown> = {}, time: Record<string, unknown> = {}) {
  const parsed = parsePackument(packument({ '1.0.0': manifest('1.0.0', extra, dist) }, { time }), NAME);
  const facts = parsed.facts.get('1.0.0');
  assert.ok(facts, `1.0.0 should be modelled, malformed: ${JSON.stringify(parsed.malformed)}`);
  return facts;
}

test('a document that is not an object is refused', () => {
  for (const doc of [null, [], 'packument', 42, true, undefined]) {
    assertInvalid(() => parsePackument(doc, NAME), /is not a JSON object/);
  }
});

test('a document for another package is refused, one without a name is accepted', () => {
  assertInvalid(() => parsePackument(packument({}, { name: 'other' }), NAME), /names another package: "other"/);
  assertInvalid(() => parsePackument(packument({}, { name: 7 }), NAME), /names another package: number/);
  const parsed = parsePackument({ versions: {} }, NAME);
  assert.equal(parsed.name, NAME);
  assert.equal(parsed.doc['name'], NAME);
});

test('versions that is present but not an object is refused', () => {
  for (const versions of [[], null, 'x', 1]) {
    assertInvalid(() => parsePackument({ name: NAME, versions }, NAME), /"versions" that is not an object/);
  }
});

test('a fully unpublished packument parses to zero versions and keeps its unpublished record', () => {
  const doc = {
    name: NAME,
    time: { created: '2020-01-01T00:00:00.000Z', modified: '2021-01-01T00:00:00.000Z', unpublished: { time: '2021-01-01T00:00:00.000Z', versions: ['1.0.0'] } },
  };
  const parsed = parsePackument(doc, NAME);
  assert.equal(parsed.versions.size, 0);
  assert.equal(parsed.facts.size, 0);
  assert.deepEqual(parsed.malformed, []);
  assert.deepEqual([...parsed.time.keys()], ['created', 'modified']);
  assert.deepEqual(parsed.unpublished, { time: '2021-01-01T00:00:00.000Z', versions: ['1.0.0'] });
});

test('__proto__ and constructor keys pollute nothing and are not kept', () => {
  const text = `{"__proto__":{"polluted":"top"},"constructor":{"prototype":{"polluted":"ctor"}},"name":"${NAME}",
    "dist-tags":{"__proto__":"1.0.0","latest":"1.0.0"},
    "time":{"__proto__":{"polluted":"time"},"1.0.0":"2021-01-01T00:00:00.000Z"},
    "versions":{"__proto__":{"name":"${NAME}","version":"__proto__","dist":{}},
      "1.0.0":{"__proto__":{"polluted":"manifest"},"name":"${NAME}","version":"1.0.0","dist":{"__proto__":{"polluted":"dist"},"tarball":"t"}}}}`;
  const parsed = parsePackument(JSON.parse(text), NAME);
  const probe: Record<string, unknown> = {};
  assert.equal(probe['polluted'], undefined);
  assert.equal(Object.getPrototypeOf(parsed.doc), Object.prototype);
  assert.equal(Object.hasOwn(parsed.doc, '__proto__'), false);
  assert.equal(Object.hasOwn(parsed.doc, 'constructor'), false);
  assert.deepEqual([...parsed.distTags], [['latest', '1.0.0']]);
  const kept = parsed.versions.get('1.0.0');
  assert.ok(kept);
  assert.equal(Object.hasOwn(kept, '__proto__'), false);
  assert.equal(Object.getPrototypeOf(kept), Object.prototype);
  const dist = kept['dist'] as Record<string, unknown>;
  assert.equal(Object.hasOwn(dist, '__proto__'), false);
  assert.equal(Object.getPrototypeOf(dist), Object.prototype);
  assert.deepEqual(parsed.malformed.map((m) => m.version), ['__proto__']);
  assert.match(parsed.malformed[0]!.reason, /not a valid semver version/);
});

test('version keys that are not exact semver versions are malformed, with a short one-line reason', () => {
  const huge = `1.0.0-${'a'.repeat(100_000)}`;
  const parsed = parsePackument(packument({
    'not-a-version': manifest('not-a-version'),
    '1.0': manifest('1.0'),
    'v1.0.0': manifest('v1.0.0'),
    [huge]: manifest(huge),
    'bad\nkey': manifest('bad\nkey'),
    '1.0.0': manifest('1.0.0'),
  }), NAME);
  assert.deepEqual([...parsed.versions.keys()], ['1.0.0']);
  assert.equal(parsed.malformed.length, 5);
  for (const { version, reason } of parsed.malformed) {
    assert.ok(reason.length < 200, reason);
    assert.ok(!reason.includes('\n'), reason);
    assert.ok(version.length <= 256, 'a huge key is truncated');
  }
  const hugeEntry = parsed.malformed.find((m) => m.version.startsWith('1.0.0-aaa'));
  assert.match(hugeEntry?.reason ?? '', /longer than 256 characters/);
});

test('a manifest that is not an object is malformed', () => {
  const parsed = parsePackument(packument({ '1.0.0': 'x', '1.0.1': null, '1.0.2': [] }), NAME);
  assert.equal(parsed.versions.size, 0);
  assert.deepEqual(parsed.malformed.map((m) => m.reason), [
    'the manifest of "1.0.0" is not an object (got string)',
    'the manifest of "1.0.1" is not an object (got null)',
    'the manifest of "1.0.2" is not an object (got an array)',
  ]);
});

test('manifest.version must equal its key', () => {
  const parsed = parsePackument(packument({ '1.0.0': manifest('1.0.1'), '1.0.2': { name: NAME, dist: {} } }), NAME);
  assert.equal(parsed.versions.size, 0);
  assert.deepEqual(parsed.malformed.map((m) => m.reason), [
    'the manifest of "1.0.0" says version "1.0.1"',
    'the manifest of "1.0.2" says version undefined',
  ]);
});

test('manifest.name must be the package name when present', () => {
  const parsed = parsePackument(packument({
    '1.0.0': manifest('1.0.0', { name: 'evil' }),
    '1.0.1': { version: '1.0.1', dist: {} },
  }), NAME);
  assert.deepEqual([...parsed.versions.keys()], ['1.0.1']);
  assert.deepEqual(parsed.malformed, [{ version: '1.0.0', reason: 'the manifest of "1.0.0" says name "evil", not demo' }]);
});

test('a manifest without a dist object is malformed', () => {
  const parsed = parsePackument(packument({
    '1.0.0': { name: NAME, version: '1.0.0' },
    '1.0.1': { name: NAME, version: '1.0.1', dist: 'x' },
    '1.0.2': { name: NAME, version: '1.0.2', dist: [] },
  }), NAME);
  assert.equal(parsed.versions.size, 0);
  assert.deepEqual(parsed.malformed.map((m) => m.reason), [
    'the manifest of "1.0.0" has no "dist" object (got undefined)',
    'the manifest of "1.0.1" has no "dist" object (got string)',
    'the manifest of "1.0.2" has no "dist" object (got an array)',
  ]);
});

test('dist-tags keep only string values with URL-safe names; a tag on a missing version is kept for repointing', () => {
  const tags = { latest: '1.0.0', next: 2, beta: null, old: { v: '1' }, gone: '9.9.9', 'has space': '1.0.0', 'a/b': '1.0.0', huge: `1.0.0-${'x'.repeat(300)}` };
  const parsed = parsePackument(packument({ '1.0.0': manifest('1.0.0') }, { 'dist-tags': tags }), NAME);
  assert.deepEqual([...parsed.distTags], [['latest', '1.0.0'], ['gone', '9.9.9']]);
  for (const distTags of [[], 'latest', null]) {
    assert.equal(parsePackument(packument({}, { 'dist-tags': distTags }), NAME).distTags.size, 0);
  }
});

test('time keeps created, modified and modelled versions with string values', () => {
  const time = { created: 'c', '1.0.0': '2021-01-01T00:00:00.000Z', '1.0.1': 5, 'bad-key': 'x', '9.9.9': 'x', modified: 'm', other: 'x' };
  const parsed = parsePackument(packument({ '1.0.0': manifest('1.0.0'), '1.0.1': manifest('1.0.1'), 'bad-key': manifest('bad-key') }, { time }), NAME);
  assert.deepEqual([...parsed.time], [['created', 'c'], ['1.0.0', '2021-01-01T00:00:00.000Z'], ['modified', 'm']]);
  assert.equal(parsed.facts.get('1.0.1')?.publishedAt, undefined);
  assert.equal(parsePackument(packument({ '1.0.0': manifest('1.0.0') }, { time: 'yesterday' }), NAME).time.size, 0);
});

test('the top-level doc keeps other fields in order, without versions, time, dist-tags and _attachments', () => {
  const parsed = parsePackument({ _id: NAME, _rev: '1-a', name: NAME, 'dist-tags': {}, versions: {}, time: {}, readme: 'r', _attachments: {}, users: { a: true } }, NAME);
  assert.deepEqual(Object.keys(parsed.doc), ['_id', '_rev', 'name', 'readme', 'users']);
});

test('integrity: sha512 hex is extracted only from a well-formed sha512', () => {
  assert.equal(factsOf({}).sha512, SHA512_HEX);
  assert.equal(factsOf({}).integrity, `sha512-${SHA512_B64}`);
  const sha1Only = factsOf({ integrity: 'sha1-3q2+7w==' });
  assert.equal(sha1Only.integrity, 'sha1-3q2+7w==');
  assert.equal(sha1Only.sha512, undefined);
  assert.equal(factsOf({ integrity: `sha1-3q2+7w== sha512-${SHA512_B64}` }).sha512, SHA512_HEX);
  assert.equal(factsOf({ integrity: `sha512-${SHA512_B64}?opt=1` }).sha512, SHA512_HEX);
  for (const integrity of ['sha512-!!!!', `sha512-${Buffer.alloc(32).toString('base64')}`, 'md5-abc', '', 'constructor-abc', `sha512-${'A'.repeat(88)}`, `sha512-${SHA512_B64} `.repeat(1000)]) {
    assert.equal(factsOf({ integrity }).sha512, undefined, integrity.slice(0, 40));
  }
  for (const integrity of [42, null, [`sha512-${SHA512_B64}`], { sha512: SHA512_B64 }]) {
    const facts = factsOf({ integrity });
    assert.equal(facts.integrity, undefined);
    assert.equal(facts.sha512, undefined);
  }
});

test('shasum: only 40 hex characters, lowercased', () => {
  assert.equal(factsOf({ shasum: 'ABCDEF'.padEnd(40, '0') }).sha1, 'abcdef'.padEnd(40, '0'));
  for (const shasum of ['a'.repeat(39), 'g'.repeat(40), 40, undefined]) assert.equal(factsOf({ shasum }).sha1, undefined);
});

test('signatures: only entries with non-empty string keyid and sig, at most 16', () => {
  const good = { keyid: 'SHA256:k', sig: 'MEUC' };
  const signatures = [good, { keyid: '', sig: 'x' }, { keyid: 'k' }, { keyid: 1, sig: 'x' }, null, 'sig', [good]];
  assert.deepEqual(factsOf({ signatures }).signatures, [good]);
  assert.deepEqual(factsOf({ signatures: good }).signatures, []);
  assert.equal(factsOf({ signatures: Array.from({ length: 100 }, () => good) }).signatures.length, MAX_SIGNATURES);
});

test('publish time: parsed when it is a date string, raw kept as published', () => {
  const ok = factsOf({}, {}, { '1.0.0': '2021-01-02T03:04:05.678Z' });
  assert.equal(ok.publishedAt, Date.UTC(2021, 0, 2, 3, 4, 5, 678));
  assert.equal(ok.publishedAtRaw, '2021-01-02T03:04:05.678Z');
  const garbage = factsOf({}, {}, { '1.0.0': 'last tuesday' });
  assert.equal(garbage.publishedAt, undefined);
  assert.equal(garbage.publishedAtRaw, 'last tuesday');
  const numeric = factsOf({}, {}, { '1.0.0': 1_600_000_000_000 });
  assert.equal(numeric.publishedAt, undefined);
  assert.equal(numeric.publishedAtRaw, undefined);
});

test('tarball on another host, attestations and deprecation are reported as published', () => {
  const facts = factsOf({ tarball: 'https://evil.example/x.tgz', attestations: { url: 'https://registry.npmjs.org/-/npm/v1/attestations/demo@1.0.0' } }, { deprecated: 'use 2' });
  assert.equal(facts.tarball, 'https://evil.example/x.tgz');
  assert.equal(facts.attestationsUrl, 'https://registry.npmjs.org/-/npm/v1/attestations/demo@1.0.0');
  assert.equal(facts.deprecated, true);
  assert.equal(facts.name, NAME);
  assert.equal(facts.version, '1.0.0');
  const bare = factsOf({ tarball: 5, attestations: 'x' }, { deprecated: '' });
  assert.equal(bare.tarball, undefined);
  assert.equal(bare.attestationsUrl, undefined);
  assert.equal(bare.deprecated, false);
  assert.equal(factsOf({}, { deprecated: true }).deprecated, false);
});

test('parsing never mutates its input', () => {
  const doc = packument({ '1.0.0': manifest('1.0.0'), bad: 'x' }, { _attachments: {} });
  const before = structuredClone(doc);
  parsePackument(doc, NAME);
  assert.deepEqual(doc, before);
});

test('the real npm packument parses with every fact present', (t) => {
  const doc = loadRealPackument('full');
  if (doc === undefined) {
    t.skip('../shared/fixtures/npm-real is absent');
    return;
  }
  const parsed = parsePackument(doc, REAL_PACKUMENT_NAME);
  assert.equal(parsed.versions.size, 11);
  assert.deepEqual(parsed.malformed, []);
  assert.deepEqual([...parsed.distTags], [['latest', '1.3.0']]);
  for (const facts of parsed.facts.values()) {
    assert.match(facts.sha512 ?? '', /^[0-9a-f]{128}$/);
    assert.match(facts.sha1 ?? '', /^[0-9a-f]{40}$/);
    assert.equal(facts.signatures.length, 1);
    assert.equal(typeof facts.publishedAt, 'number');
  }
  assert.equal(parsed.facts.get('1.2.1-alpha.0')?.deprecated, true);
  assert.equal(parsed.facts.get('1.3.0')?.deprecated, false);
});

test('property: any generated packument parses without throwing or polluting', () => {
  fc.assert(
    fc.property(packumentArb(), ({ name, doc, versionKeys }) => {
      const parsed = parsePackument(doc, name);
      assert.equal(parsed.versions.size + parsed.malformed.length, versionKeys.length);
      for (const version of parsed.versions.keys()) assert.ok(parsed.facts.has(version));
      for (const key of parsed.time.keys()) assert.ok(key === 'created' || key === 'modified' || parsed.versions.has(key));
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    }),
    { numRuns: 200 },
  );
});
