/**
 * The fast path (scan.ts + splice.ts) against the reference (parsePackument + prepareRender +
 * renderPackument): whenever the scan accepts a document, a client's JSON.parse of both spliced
 * forms, every fact, the malformed versions and the dist-tags are the reference's; and the scan
 * declines every document whose meaning it could get wrong.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { repointDistTags, type AllowedVersion } from '../../../src/registry/dist-tags.js';
import { parsePackument } from '../../../src/registry/parse.js';
import { prepareRender, renderPackument } from '../../../src/registry/render.js';
import { scanPackument } from '../../../src/registry/scan.js';
import { spliceAbbreviatedForm, spliceFullForm } from '../../../src/registry/splice.js';
import { loadRealPackument, packumentArb, REAL_PACKUMENT_NAME } from '../../helpers/packument-gen.js';

const BASE = 'https://countersign.example/';
const tarballUrl = (name: string, version: string): string => `${BASE}${name}/-/x-${version}.tgz`;

/** Asserts that both paths agree on `body` for the allowed versions `allow`; false when the scan declined. */
function agrees(body: Buffer, name: string, allow: (version: string, index: number) => boolean): boolean {
  const scanned = scanPackument(body, name);
  if (scanned === undefined) return false;
  const parsed = parsePackument(JSON.parse(body.toString('utf8')), name);
  assert.deepEqual([...scanned.facts], [...parsed.facts]);
  assert.deepEqual(scanned.malformed, parsed.malformed);
  assert.deepEqual([...scanned.distTags], [...parsed.distTags]);
  const served = new Set([...parsed.facts.keys()].filter(allow));
  const kept = new Map<string, AllowedVersion>();
  for (const [version, facts] of parsed.facts) if (served.has(version)) kept.set(version, { deprecated: facts.deprecated });
  const spliced = spliceFullForm(scanned, served, repointDistTags(parsed.distTags, kept).tags, tarballUrl);
  const prepared = prepareRender(parsed, tarballUrl);
  const reference = renderPackument(prepared, served, 'full');
  assert.deepEqual(JSON.parse(spliced.body.toString('utf8')), JSON.parse(reference.body.toString('utf8')));
  const abbreviated = spliceAbbreviatedForm(scanned, served, repointDistTags(parsed.distTags, kept).tags, tarballUrl);
  assert.deepEqual(JSON.parse(abbreviated.toString('utf8')), JSON.parse(renderPackument(prepared, served, 'abbreviated').body.toString('utf8')));
  assert.deepEqual([...spliced.manifestRanges.keys()], [...reference.manifestRanges.keys()]);
  for (const [version, [start, end]] of spliced.manifestRanges) {
    const [refStart, refEnd] = reference.manifestRanges.get(version)!;
    assert.deepEqual(JSON.parse(spliced.body.toString('utf8', start, end)), JSON.parse(reference.body.toString('utf8', refStart, refEnd)));
  }
  return true;
}

function sample(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const manifest = (version: string, more: Record<string, unknown> = {}) => ({
    name: 'demo',
    version,
    description: 'd\u00e9mo \u2603 "quoted" \\ back\nslash',
    scripts: { test: 'node t.js' },
    dependencies: { a: '^1.0.0' },
    dist: {
      integrity: `sha512-${Buffer.alloc(64, version.length).toString('base64')}`,
      shasum: 'AB'.repeat(20),
      tarball: `https://registry.npmjs.org/demo/-/demo-${version}.tgz`,
      signatures: [{ keyid: 'SHA256:k', sig: 'MEUCIQ==' }, { keyid: '', sig: 'x' }],
      attestations: { url: 'https://registry.npmjs.org/-/npm/v1/attestations/demo@1', provenance: { predicateType: 'p' } },
      fileCount: 3,
      unpackedSize: -12.5,
    },
    ...more,
  });
  return {
    _id: 'demo',
    _rev: '12-abc',
    name: 'demo',
    'dist-tags': { latest: '1.1.0', next: '2.0.0-rc.1', 'bad tag': '1.0.0', num: 3 },
    versions: {
      '1.0.0': manifest('1.0.0', { deprecated: 'use 1.1', directories: {}, _hasShrinkwrap: false, bin: { demo: 'bin.js' }, engines: { node: '>=18' } }),
      '1.1.0': manifest('1.1.0', { deprecated: '', directories: { lib: 'lib' }, _hasShrinkwrap: true, scripts: { preinstall: '', postinstall: 'node p.js' } }),
      '1.1.1': manifest('1.1.1', { hasInstallScript: true, scripts: { 'not-install': 'x' }, cpu: ['x64'], os: null, funding: 'https://f.example' }),
      '1.1.2': manifest('1.1.2', { hasInstallScript: false, scripts: 'install', peerDependencies: { b: '*' }, peerDependenciesMeta: { b: { optional: true } } }),
      '1.0.0beta': manifest('1.0.0beta'),
      '1.2.0': manifest('1.3.0'),
      '2.0.0-rc.1': manifest('2.0.0-rc.1', { nested: [[[{ a: [true, false, null] }]]] }),
    },
    time: { created: '2020-01-01T00:00:00.000Z', '1.0.0': '2020-01-02T00:00:00.000Z', '1.1.0': 'not a date', '2.0.0-rc.1': 7, stray: 'x', modified: '2021-01-01T00:00:00.000Z' },
    readme: '# demo',
    maintainers: [{ name: 'a', email: 'a@example.com' }],
    _attachments: { 'demo-1.0.0.tgz': { data: 'AAAA' } },
    ...extra,
  };
}

test('a compact packument: the fast path agrees with the reference for every subset of versions', () => {
  const body = Buffer.from(JSON.stringify(sample()));
  for (const pick of [() => true, () => false, (_: string, i: number) => i % 2 === 0, (v: string) => v !== '1.1.0']) {
    assert.equal(agrees(body, 'demo', pick), true);
  }
  const scanned = scanPackument(body, 'demo')!;
  assert.deepEqual(scanned.malformed.map((m) => m.version).sort(), ['1.0.0beta', '1.2.0']);
  const spliced = spliceFullForm(scanned, new Set(['1.0.0']), new Map([['latest', '1.0.0']]), tarballUrl);
  const json = JSON.parse(spliced.body.toString()) as Record<string, Record<string, unknown>>;
  assert.equal(Object.hasOwn(json, '_attachments'), false);
  assert.deepEqual(Object.keys(json['time']!), ['created', '1.0.0', 'modified']);
  assert.equal((json['versions']!['1.0.0'] as { dist: { tarball: string } }).dist.tarball, tarballUrl('demo', '1.0.0'));
});

test('whitespace between tokens, as a pretty-printing upstream writes it, is read the same', () => {
  assert.equal(agrees(Buffer.from(JSON.stringify(sample(), null, 2)), 'demo', () => true), true);
  assert.equal(agrees(Buffer.from(` \r\n\t${JSON.stringify(sample(), null, '\t')}\n`), 'demo', (_, i) => i > 0), true);
});

test('the real has-package-exports packument: agrees with the reference', (t) => {
  const real = loadRealPackument('full');
  if (real === undefined) return t.skip('../shared/fixtures/npm-real is not beside this checkout');
  assert.equal(agrees(Buffer.from(JSON.stringify(real)), REAL_PACKUMENT_NAME, (_, i) => i % 3 !== 1), true);
});

test('property: generated hostile packuments, compact and pretty-printed: the fast path agrees whenever it accepts', () => {
  fc.assert(
    fc.property(packumentArb(), fc.boolean(), fc.integer({ min: 0, max: 7 }), ({ name, doc }, pretty, seed) => {
      agrees(Buffer.from(pretty ? JSON.stringify(doc, null, 1) : JSON.stringify(doc)), name, (_, i) => ((i + seed) & 3) !== 0);
    }),
    { numRuns: 300 },
  );
});

// Most hostile documents above carry an unsafe key or time.unpublished and are declined, so that
// property alone could pass with the fast path never taken. Without those, every document must be
// accepted: malformed versions, junk version keys and dangling dist-tags are the scan's to judge.
test('property: odd packuments without unsafe keys are all taken by the fast path, which agrees', () => {
  fc.assert(
    fc.property(packumentArb({ unsafeKeys: false }), fc.boolean(), fc.integer({ min: 0, max: 7 }), ({ name, doc }, pretty, seed) => {
      const body = Buffer.from(pretty ? JSON.stringify(doc, null, 1) : JSON.stringify(doc));
      assert.equal(agrees(body, name, (_, i) => ((i + seed) & 3) !== 0), true, 'the scan declined a document it can read');
    }),
    { numRuns: 300 },
  );
});

const compact = JSON.stringify(sample());
const declines: ReadonlyArray<readonly [string, string]> = [
  ['a duplicate top-level key', compact.replace('"readme":', '"name":"demo","readme":')],
  ['a duplicate integrity in a dist', compact.replace('"shasum":', '"integrity":"sha512-AAAA","shasum":')],
  ['a duplicate dist in a manifest', compact.replace('"scripts":', '"dist":{"tarball":"https://evil.example/x.tgz"},"scripts":')],
  ['a duplicate version in a manifest', compact.replace('"scripts":', '"version":"9.9.9","scripts":')],
  ['a duplicate version key', compact.replace('"versions":{', `"versions":{"1.0.0":${JSON.stringify({ name: 'demo', version: '1.0.0', dist: { tarball: 'https://evil.example/x.tgz' } })},`)],
  ['a duplicate time entry', compact.replace('"created":', '"1.0.0":"2030-01-01T00:00:00.000Z","created":')],
  ['an escaped key that reads "dist"', compact.replace('"dependencies":', '"d\\u0069st":{"tarball":"https://evil.example/x.tgz"},"dependencies":')],
  ['an escaped version key', compact.replace('"1.0.0":{', '"1.0.\\u0030":{')],
  ['an unsafe key in a manifest', compact.replace('"scripts":', '"__proto__":{"x":1},"scripts":')],
  ['an unsafe key in a dist', compact.replace('"shasum":', '"constructor":1,"shasum":')],
  ['an unsafe top-level key', compact.replace('"readme":', '"prototype":1,"readme":')],
  ['time.unpublished', compact.replace('"created":', '"unpublished":{"time":"2023-01-01T00:00:00.000Z"},"created":')],
  ['a version without a tarball URL', compact.replace(/"tarball":"[^"]*demo-1\.1\.0\.tgz",/, '')],
  ['a number with an exponent', compact.replace('"fileCount":3', '"fileCount":1e400')],
  ['a 301-digit number', compact.replace('"fileCount":3', `"fileCount":${'9'.repeat(301)}`)],
  ['a leading zero', compact.replace('"fileCount":3', '"fileCount":03')],
  ['a raw control character in a string', compact.replace('# demo', '# de\u0001mo')],
  ['a raw newline in a string', compact.replace('# demo', '# de\nmo')],
  ['a bad escape', compact.replace('# demo', '# de\\xmo')],
  ['a short \\u escape', compact.replace('# demo', '# de\\u12')],
  ['trailing garbage', `${compact}x`],
  ['two documents', `${compact}{}`],
  ['a trailing comma', compact.replace(/}$/, ',}')],
  ['a truncated body', compact.slice(0, -1)],
  ['a byte-order mark', `\ufeff${compact}`],
  ['another name', compact.replace('"name":"demo","dist-tags"', '"name":"other","dist-tags"')],
  ['no name', compact.replace('"name":"demo","dist-tags"', '"dist-tags"')],
  ['no time', compact.replace(/,"time":\{[^}]*\}/, '')],
  ['no dist-tags', compact.replace(/"dist-tags":\{[^}]*\},/, '')],
  ['versions that are not an object', compact.replace(/"versions":\{.*\},"time"/, '"versions":[],"time"')],
  ['nesting past 64 levels', compact.replace('"readme":', `"deep":${'['.repeat(64)}${']'.repeat(64)},"readme":`)],
];

for (const [what, text] of declines) {
  test(`declines ${what}`, () => {
    assert.notEqual(text, compact, 'the case changes the document');
    assert.equal(scanPackument(Buffer.from(text), 'demo'), undefined);
  });
}

test('declines bytes that are not UTF-8', () => {
  const body = Buffer.from(compact);
  body[body.indexOf('# demo') + 2] = 0xff;
  assert.equal(scanPackument(body, 'demo'), undefined);
});

test('nesting up to the limit is accepted', () => {
  const text = compact.replace('"readme":', `"deep":${'['.repeat(62)}${']'.repeat(62)},"readme":`);
  assert.equal(agrees(Buffer.from(text), 'demo', () => true), true);
});

test('an install script spelled with an escape still counts in the abbreviated form', () => {
  const text = compact.replace('"scripts":{"test":"node t.js"}', '"scripts":{"\\u0069nstall":"node-gyp rebuild"}');
  assert.notEqual(text, compact);
  assert.equal(agrees(Buffer.from(text), 'demo', () => true), true);
  const scanned = scanPackument(Buffer.from(text), 'demo')!;
  const abbreviated = JSON.parse(spliceAbbreviatedForm(scanned, new Set(['1.0.0']), new Map(), tarballUrl).toString()) as { versions: Record<string, { hasInstallScript?: boolean }> };
  assert.equal(abbreviated.versions['1.0.0']!.hasInstallScript, true);
});

test('escapes in values are decoded as JSON.parse decodes them', () => {
  const text = compact.replace('"deprecated":"use 1.1"', '"deprecated":"use \\u0031.1 \\"now\\""').replace(/demo-1\.0\.0\.tgz"/, 'demo-1.0.0.tgz\\u003fx"');
  assert.notEqual(text, compact);
  assert.equal(agrees(Buffer.from(text), 'demo', () => true), true);
  assert.equal(scanPackument(Buffer.from(text), 'demo')!.facts.get('1.0.0')!.tarball, 'https://registry.npmjs.org/demo/-/demo-1.0.0.tgz?x');
});
