import { test } from 'node:test';
import assert from 'node:assert/strict';
import { abbreviateManifest, hasInstallScript } from '../../../src/registry/abbreviated.js';
import { parsePackument } from '../../../src/registry/parse.js';
import { prepareRender, renderPackument } from '../../../src/registry/render.js';
import { loadRealPackument, REAL_PACKUMENT_NAME } from '../../helpers/packument-gen.js';

const SKIP_REASON = '../shared/fixtures/npm-real is absent';

test('the abbreviated packument derived from the real full one equals the real corgi', (t) => {
  const full = loadRealPackument('full');
  const corgi = loadRealPackument('corgi');
  if (full === undefined || corgi === undefined) {
    t.skip(SKIP_REASON);
    return;
  }
  const parsed = parsePackument(full, REAL_PACKUMENT_NAME);
  // Keep the upstream tarball URLs, so the comparison is byte for byte on dist.
  const upstreamTarball = (_name: string, version: string): string => parsed.facts.get(version)?.tarball ?? '';
  const prepared = prepareRender(parsed, upstreamTarball);
  const { body } = renderPackument(prepared, new Set(parsed.versions.keys()), 'abbreviated');
  const ours = JSON.parse(body.toString()) as Record<string, unknown>;

  // _contentLength is the registry's bookkeeping, not part of the format.
  const { _contentLength: _ignored, ...expected } = corgi as Record<string, unknown>;
  assert.deepStrictEqual(ours, expected);

  // deepStrictEqual ignores key order; clients do not care, but we follow the registry's.
  const ourVersions = ours['versions'] as Record<string, Record<string, unknown>>;
  const realVersions = expected['versions'] as Record<string, Record<string, unknown>>;
  for (const version of Object.keys(realVersions)) {
    assert.deepEqual(Object.keys(ourVersions[version] ?? {}), Object.keys(realVersions[version] ?? {}), version);
  }
  assert.deepEqual(Object.keys(ours), Object.keys(expected));
});

test('only install fields are kept, in the registry order', () => {
  const manifest = {
    readme: 'long text',
    dist: { tarball: 't' },
    scripts: { test: 'x' },
    engines: { node: '>=20' },
    bin: { demo: 'cli.js' },
    version: '1.0.0',
    peerDependenciesMeta: { react: { optional: true } },
    peerDependencies: { react: '*' },
    optionalDependencies: { fsevents: '*' },
    dependencies: { a: '1' },
    name: 'demo',
    os: ['linux'],
    cpu: ['x64'],
    libc: ['glibc'],
    funding: 'https://example.com',
    _npmUser: { name: 'x' },
    maintainers: [],
    gitHead: 'abc',
  };
  assert.deepEqual(Object.keys(abbreviateManifest(manifest)), [
    'name', 'version', 'dependencies', 'optionalDependencies', 'peerDependencies', 'peerDependenciesMeta',
    'bin', 'dist', 'engines', 'cpu', 'os', 'libc', 'funding',
  ]);
});

test('empty directories and a false _hasShrinkwrap are left out, as the registry does', () => {
  const base = { name: 'demo', version: '1.0.0', dist: {} };
  assert.deepEqual(abbreviateManifest({ ...base, directories: {}, _hasShrinkwrap: false }), base);
  assert.deepEqual(abbreviateManifest({ ...base, directories: { bin: './bin' }, _hasShrinkwrap: true }), {
    ...base, directories: { bin: './bin' }, _hasShrinkwrap: true,
  });
});

test('hasInstallScript is true for install lifecycle scripts or when the publisher said so', () => {
  for (const script of ['preinstall', 'install', 'postinstall']) {
    assert.equal(hasInstallScript({ scripts: { [script]: 'node-gyp rebuild' } }), true, script);
    assert.equal(abbreviateManifest({ name: 'x', version: '1.0.0', scripts: { [script]: 'x' } })['hasInstallScript'], true);
  }
  assert.equal(hasInstallScript({ hasInstallScript: true }), true);
  assert.equal(hasInstallScript({ scripts: { prepare: 'x', test: 'y', install: '' } }), false);
  assert.equal(hasInstallScript({ scripts: 'install' }), false);
  assert.equal(hasInstallScript({ hasInstallScript: 'yes' }), false);
  assert.equal(Object.hasOwn(abbreviateManifest({ name: 'x', version: '1.0.0', hasInstallScript: false }), 'hasInstallScript'), false);
});

test('deprecated is carried over, whatever follows in the manifest', () => {
  const out = abbreviateManifest({ name: 'x', version: '1.0.0', deprecated: 'use 2', dist: {}, funding: 'f' });
  assert.deepEqual(Object.keys(out), ['name', 'version', 'dist', 'deprecated', 'funding']);
  assert.equal(out['deprecated'], 'use 2');
});

test('an own __proto__ key in a manifest does not reach the abbreviated object', () => {
  const manifest = JSON.parse('{"__proto__":{"polluted":true},"name":"x","version":"1.0.0"}') as Record<string, unknown>;
  const out = abbreviateManifest(manifest);
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.deepEqual(Object.keys(out), ['name', 'version']);
});
