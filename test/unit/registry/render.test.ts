import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import semver from 'semver';
import { parsePackument, type ParsedPackument } from '../../../src/registry/parse.js';
import { prepareRender, renderPackument, type PackumentForm } from '../../../src/registry/render.js';
import { packumentCaseArb } from '../../helpers/packument-gen.js';

const NAME = '@acme/demo';
const BASE = 'https://countersign.example/';
const ourTarball = (name: string, version: string): string => `${BASE}${name}/-/demo-${version}.tgz`;
const UPSTREAM = 'https://registry.npmjs.org/@acme/demo/-/demo-';

function version(v: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: NAME, version: v, readme: `readme of ${v}`, dist: { integrity: 'sha512-x', tarball: `${UPSTREAM}${v}.tgz` }, ...extra };
}

function sample(): ParsedPackument {
  return parsePackument({
    _id: NAME,
    _rev: '7-abc',
    name: NAME,
    description: 'demo',
    'dist-tags': { latest: '1.2.0', next: '2.0.0-rc.1' },
    versions: { '1.0.0': version('1.0.0'), '1.1.0': version('1.1.0', { deprecated: 'bad' }), '1.2.0': version('1.2.0'), '2.0.0-rc.1': version('2.0.0-rc.1') },
    time: {
      created: '2020-01-01T00:00:00.000Z',
      '1.0.0': '2020-01-01T00:00:00.000Z',
      '1.1.0': '2020-02-01T00:00:00.000Z',
      '1.2.0': '2020-03-01T00:00:00.000Z',
      '2.0.0-rc.1': '2020-04-01T00:00:00.000Z',
      modified: '2020-04-01T00:00:00.000Z',
    },
    readme: 'top readme',
    maintainers: [{ name: 'a' }],
    _attachments: { 'demo-1.0.0.tgz': {} },
  }, NAME);
}

function render(parsed: ParsedPackument, allowed: string[], form: PackumentForm) {
  const rendered = renderPackument(prepareRender(parsed, ourTarball), new Set(allowed), form);
  return { ...rendered, json: JSON.parse(rendered.body.toString()) as Record<string, unknown> };
}

function objectAt(json: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = json[key];
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), `${key} is not an object`);
  return value as Record<string, unknown>;
}

test('full form: hidden versions are absent from versions and time; created and modified stay', () => {
  const { json } = render(sample(), ['1.0.0', '1.1.0'], 'full');
  assert.deepEqual(Object.keys(objectAt(json, 'versions')), ['1.0.0', '1.1.0']);
  assert.deepEqual(objectAt(json, 'time'), {
    created: '2020-01-01T00:00:00.000Z',
    '1.0.0': '2020-01-01T00:00:00.000Z',
    '1.1.0': '2020-02-01T00:00:00.000Z',
    modified: '2020-04-01T00:00:00.000Z',
  });
});

test('full form: other top-level fields are kept in order, _attachments is dropped', () => {
  const { json } = render(sample(), ['1.0.0'], 'full');
  assert.deepEqual(Object.keys(json), ['_id', '_rev', 'name', 'dist-tags', 'versions', 'time', 'description', 'readme', 'maintainers']);
  assert.equal(json['readme'], 'top readme');
});

test('full form keeps whole manifests; abbreviated form keeps install fields only', () => {
  const full = objectAt(objectAt(render(sample(), ['1.0.0'], 'full').json, 'versions'), '1.0.0');
  assert.equal(full['readme'], 'readme of 1.0.0');
  const corgi = render(sample(), ['1.0.0'], 'abbreviated').json;
  assert.deepEqual(Object.keys(corgi), ['name', 'dist-tags', 'versions', 'modified']);
  assert.equal(corgi['modified'], '2020-04-01T00:00:00.000Z');
  assert.deepEqual(Object.keys(objectAt(objectAt(corgi, 'versions'), '1.0.0')), ['name', 'version', 'dist']);
});

test('tarball URLs are rewritten to ours in both forms, without touching the parsed packument', () => {
  const parsed = sample();
  for (const form of ['full', 'abbreviated'] as const) {
    const versions = objectAt(render(parsed, ['1.0.0', '1.2.0'], form).json, 'versions');
    for (const [v, manifest] of Object.entries(versions)) {
      const dist = objectAt(manifest as Record<string, unknown>, 'dist');
      assert.equal(dist['tarball'], ourTarball(NAME, v));
      assert.equal(dist['integrity'], 'sha512-x');
    }
  }
  const kept = objectAt(parsed.versions.get('1.0.0') as Record<string, unknown>, 'dist');
  assert.equal(kept['tarball'], `${UPSTREAM}1.0.0.tgz`);
  assert.equal(parsed.facts.get('1.0.0')?.tarball, `${UPSTREAM}1.0.0.tgz`);
});

test('dist-tags are repointed from the allowed versions, avoiding deprecated ones', () => {
  const { json, distTags, moved, versionCount } = render(sample(), ['1.0.0', '1.1.0'], 'abbreviated');
  assert.deepEqual(objectAt(json, 'dist-tags'), { latest: '1.0.0' });
  assert.deepEqual([...distTags], [['latest', '1.0.0']]);
  assert.deepEqual(moved, [
    { tag: 'latest', from: '1.2.0', to: '1.0.0' },
    { tag: 'next', from: '2.0.0-rc.1', to: null },
  ]);
  assert.equal(versionCount, 2);
});

test('with every version hidden, both forms are still valid and empty', () => {
  for (const form of ['full', 'abbreviated'] as const) {
    const { json, versionCount } = render(sample(), [], form);
    assert.deepEqual(objectAt(json, 'versions'), {});
    assert.deepEqual(objectAt(json, 'dist-tags'), {});
    assert.equal(versionCount, 0);
  }
  assert.deepEqual(objectAt(render(sample(), [], 'full').json, 'time'), {
    created: '2020-01-01T00:00:00.000Z',
    modified: '2020-04-01T00:00:00.000Z',
  });
});

test('allowed versions the packument does not have are ignored', () => {
  const { json } = render(sample(), ['1.0.0', '9.9.9'], 'full');
  assert.deepEqual(Object.keys(objectAt(json, 'versions')), ['1.0.0']);
});

test('an unpublished packument renders its unpublished record in time', () => {
  const parsed = parsePackument({ name: NAME, time: { created: 'c', modified: 'm', unpublished: { time: 'm', versions: ['1.0.0'] } } }, NAME);
  const { json } = render(parsed, [], 'full');
  assert.deepEqual(objectAt(json, 'time'), { created: 'c', modified: 'm', unpublished: { time: 'm', versions: ['1.0.0'] } });
  assert.deepEqual(Object.keys(render(parsed, [], 'abbreviated').json), ['name', 'dist-tags', 'versions', 'modified']);
});

test('a packument without time renders without modified in the abbreviated form', () => {
  const parsed = parsePackument({ name: NAME, versions: { '1.0.0': version('1.0.0') } }, NAME);
  assert.deepEqual(Object.keys(render(parsed, ['1.0.0'], 'abbreviated').json), ['name', 'dist-tags', 'versions']);
  assert.deepEqual(objectAt(render(parsed, ['1.0.0'], 'full').json, 'time'), {});
});

test('3,500 versions: phase 2 reuses the phase-1 text', () => {
  const versions: Record<string, unknown> = {};
  for (let i = 0; i < 3500; i++) versions[`1.0.${i}`] = version(`1.0.${i}`, { description: 'x'.repeat(200) });
  const parsed = parsePackument({ name: NAME, 'dist-tags': { latest: '1.0.3499' }, versions }, NAME);
  const prepared = prepareRender(parsed, ourTarball);
  const allowed = new Set([...parsed.versions.keys()].filter((_, i) => i % 2 === 0));
  const { body, distTags } = renderPackument(prepared, allowed, 'full');
  assert.equal(Object.keys(objectAt(JSON.parse(body.toString()) as Record<string, unknown>, 'versions')).length, 1750);
  assert.equal(distTags.get('latest'), '1.0.3498');
});

test('property: for any packument and allowed subset, the output is a consistent, valid packument', () => {
  fc.assert(
    fc.property(packumentCaseArb(), ({ packument, allowed }) => {
      const parsed = parsePackument(packument.doc, packument.name);
      const prepared = prepareRender(parsed, ourTarball);
      const present = [...parsed.versions.keys()].filter((v) => allowed.has(v));
      const stableAllowed = present.some((v) => semver.prerelease(v) === null);
      for (const form of ['full', 'abbreviated'] as const) {
        const { body } = renderPackument(prepared, allowed, form);
        const json = JSON.parse(body.toString()) as Record<string, unknown>;
        const versions = objectAt(json, 'versions');
        const tags = objectAt(json, 'dist-tags');
        assert.deepEqual(Object.keys(versions), present);
        for (const [tag, target] of Object.entries(tags)) {
          assert.ok(typeof target === 'string' && Object.hasOwn(versions, target), `${tag} -> ${String(target)}`);
        }
        for (const [v, manifest] of Object.entries(versions)) {
          const tarball = objectAt(manifest as Record<string, unknown>, 'dist')['tarball'];
          assert.ok(typeof tarball === 'string' && tarball.startsWith(BASE), `${v}: ${String(tarball)}`);
        }
        if (stableAllowed) assert.ok(Object.hasOwn(tags, 'latest'), 'latest must exist while a stable version is allowed');
        else if (Object.hasOwn(tags, 'latest')) assert.notEqual(semver.prerelease(String(tags['latest'])), null);
        if (form === 'full') {
          for (const key of Object.keys(objectAt(json, 'time'))) {
            assert.ok(['created', 'modified', 'unpublished'].includes(key) || present.includes(key), `time.${key} leaked`);
          }
          assert.equal(Object.hasOwn(json, '_attachments'), false);
          assert.equal(Object.hasOwn(json, '__proto__'), false);
        } else {
          assert.equal(Object.hasOwn(json, 'time'), false);
        }
      }
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    }),
    { numRuns: 200 },
  );
});
