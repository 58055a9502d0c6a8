import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { VersionFacts } from '../../../src/registry/types.js';
import { sha512HexOf } from '../../../src/verify/integrity.js';
import { parseKeysDocument } from '../../../src/verify/keys/parse.js';
import { tufSeedKeys } from '../../../src/verify/keys/tuf-seed.js';
import { precomputedValidity, registrySignatureTasks, registrySignatureVerdict, toP256Task, verifyRegistrySignature } from '../../../src/verify/registry-signature.js';
import { SignaturePool } from '../../../src/verify/signature-pool.js';
import type { RegistryKeySet } from '../../../src/verify/types.js';

/** Real npm registry data (see fixtures/npm-real/README.md): signatures by the 2022 key over 11 versions. */

const NPM_2022 = 'SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA';
const NPM_2025 = 'SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U';

interface Packument {
  name: string;
  time?: Record<string, string>;
  versions: Record<string, { dist: { integrity?: string; shasum?: string; tarball?: string; signatures?: Array<{ keyid: string; sig: string }> } }>;
}

function repoRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'countersign') return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function loadFixtures(): { keys: unknown; full: Packument; corgi: Packument } | string {
  const root = repoRoot();
  if (root === undefined) return 'no package.json named countersign above this test';
  const dir = join(root, '..', 'shared', 'fixtures', 'npm-real');
  if (!existsSync(dir)) return `the real npm vectors are not here (${dir})`;
  const read = (file: string): unknown => JSON.parse(readFileSync(join(dir, file), 'utf8'));
  return { keys: read('npm-registry-keys.json'), full: read('has-package-exports.full.json') as Packument, corgi: read('has-package-exports.corgi.json') as Packument };
}

/** VersionFacts built by hand, so that this test does not depend on the packument parser. */
function factsOf(packument: Packument): VersionFacts[] {
  return Object.entries(packument.versions).map(([version, { dist }]) => {
    const publishedAtRaw = packument.time?.[version];
    return {
      name: packument.name,
      version,
      integrity: dist.integrity,
      sha512: sha512HexOf(dist.integrity),
      sha1: dist.shasum,
      signatures: dist.signatures ?? [],
      publishedAt: publishedAtRaw === undefined ? undefined : Date.parse(publishedAtRaw),
      publishedAtRaw,
      tarball: dist.tarball,
      attestationsUrl: undefined,
      deprecated: false,
    };
  });
}

const fixtures = loadFixtures();

function withFixtures(t: TestContext, run: (f: Exclude<typeof fixtures, string>) => void | Promise<void>): void | Promise<void> {
  if (typeof fixtures === 'string') {
    t.skip(fixtures);
    return;
  }
  return run(fixtures);
}

function statuses(versions: readonly VersionFacts[], keys: RegistryKeySet): string[] {
  return versions.map((facts) => verifyRegistrySignature(facts, keys).status);
}

describe('real npm registry signatures (has-package-exports)', () => {
  const pool = new SignaturePool({ size: 1, inlineBelow: 1 });
  after(() => pool.close());

  it('verifies all 11 versions with the keys from /-/npm/v1/keys', (t) =>
    withFixtures(t, ({ keys, full }) => {
      const versions = factsOf(full);
      assert.equal(versions.length, 11);
      const keySet = parseKeysDocument(keys, 'npm-registry-keys.json');
      for (const facts of versions) {
        assert.deepEqual(verifyRegistrySignature(facts, keySet).status, 'valid', facts.version);
        assert.equal(verifyRegistrySignature(facts, keySet).keyid, NPM_2022);
      }
    }));

  it('verifies them with the TUF seed keys of @sigstore/tuf too', (t) =>
    withFixtures(t, ({ full }) => {
      assert.deepEqual(new Set(statuses(factsOf(full), tufSeedKeys())), new Set(['valid']));
    }));

  it('verifies them through the worker pool', (t) =>
    withFixtures(t, async ({ keys, full }) => {
      const keySet = parseKeysDocument(keys, 'npm-registry-keys.json');
      const versions = factsOf(full);
      const tasks = versions.flatMap((facts) => registrySignatureTasks(facts, keySet));
      assert.equal(tasks.length, 11);
      const isValid = precomputedValidity(tasks, await pool.verifyMany(tasks.map(toP256Task)));
      assert.equal(pool.threads, 1);
      for (const facts of versions) assert.equal(registrySignatureVerdict(facts, keySet, isValid).status, 'valid');
    }));

  it('finds every tampered integrity invalid', (t) =>
    withFixtures(t, ({ keys, full }) => {
      const keySet = parseKeysDocument(keys, 'npm-registry-keys.json');
      const versions = factsOf(full);
      // Each version carrying the next one's (genuine, signed) integrity: a tarball swap.
      const swapped = versions.map((facts, i) => ({ ...facts, integrity: versions[(i + 1) % versions.length]!.integrity }));
      const flipped = versions.map((facts) => ({ ...facts, integrity: facts.integrity!.replace(/^sha512-./, (m) => (m.endsWith('A') ? 'sha512-B' : 'sha512-A')) }));
      assert.deepEqual(new Set(statuses([...swapped, ...flipped], keySet)), new Set(['invalid']));
    }));

  it('is unknown-key with only the 2025 key', (t) =>
    withFixtures(t, ({ keys, full }) => {
      const keySet = parseKeysDocument(keys, 'npm-registry-keys.json');
      const only2025 = { ...keySet, keys: keySet.keys.filter((k) => k.keyid === NPM_2025) };
      assert.deepEqual(new Set(statuses(factsOf(full), only2025)), new Set(['unknown-key']));
    }));

  it('is expired-key when the 2022 key expired before the publish times', (t) =>
    withFixtures(t, ({ keys, full }) => {
      const keySet = parseKeysDocument(keys, 'npm-registry-keys.json');
      const expiredEarly = { ...keySet, keys: keySet.keys.map((k) => (k.keyid === NPM_2022 ? { ...k, expires: '2019-12-31T00:00:00.000Z' } : k)) };
      assert.deepEqual(new Set(statuses(factsOf(full), expiredEarly)), new Set(['expired-key']));
      // Expiring between two publishes splits the versions at exactly that time.
      const cut = full.time!['1.2.0']!;
      const splitAt = { ...keySet, keys: keySet.keys.map((k) => (k.keyid === NPM_2022 ? { ...k, expires: cut } : k)) };
      assert.deepEqual(statuses(factsOf(full), splitAt).slice(0, 3), ['valid', 'valid', 'expired-key']);
    }));

  it('cannot count the expiring key without publish times (abbreviated packument): fails closed', (t) =>
    withFixtures(t, ({ keys, corgi }) => {
      const keySet = parseKeysDocument(keys, 'npm-registry-keys.json');
      assert.deepEqual(new Set(statuses(factsOf(corgi), keySet)), new Set(['expired-key']));
    }));
});
