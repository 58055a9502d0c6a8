/**
 * Signatures of a big packument are verified from its raw bytes while it is parsed. The guesses are
 * keyed by the exact (keyid, message, sig), so no layout trick can make a result count for a
 * version it was not computed for: the served versions are the same as with no head start.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCountersign, verifyConfig, type Running } from '../helpers/countersign.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { createRegistryKey, sha512Integrity, type TestRegistryKey } from '../helpers/registry-key.js';

const COUNT = 400;

/** ~500 KB: big enough for the head start (256 KB, 64 signatures). */
function bigPackument(name: string, key: TestRegistryKey, upstreamUrl: string): Record<string, unknown> {
  const integrityOf = (version: string) => sha512Integrity(`${name} ${version}`);
  const versions: Record<string, Record<string, unknown>> = {};
  for (let i = 0; i < COUNT; i++) {
    const version = `1.0.${i}`;
    const integrity = integrityOf(version);
    versions[version] = {
      name,
      version,
      description: 'x'.repeat(1000),
      dist: { integrity, shasum: '0'.repeat(40), tarball: `${upstreamUrl}${name}/-/${name}-${version}.tgz`, signatures: [key.sign(name, version, integrity)] },
    };
  }
  const distOf = (version: string) => versions[version]!['dist'] as Record<string, unknown>;
  // A valid signature moved onto another version.
  distOf('1.0.10')['signatures'] = distOf('1.0.11')['signatures'];
  // A signature over something else.
  distOf('1.0.20')['signatures'] = [{ keyid: key.keyid, sig: key.signMessage('something else') }];
  // A decoy "version" before dist: the guess is wrong, the version is still verified and served.
  const { dist: dist30, ...rest30 } = versions['1.0.30']!;
  versions['1.0.30'] = { ...rest30, config: { version: '1.0.31' }, dist: dist30 };
  // A decoy that makes the guess a valid signature of 1.0.41 (whose dist this version copies): it
  // must not count for 1.0.40.
  const { dist: _dist40, ...rest40 } = versions['1.0.40']!;
  versions['1.0.40'] = { ...rest40, config: { version: '1.0.41' }, dist: { ...distOf('1.0.41') } };
  return { name, 'dist-tags': { latest: `1.0.${COUNT - 1}` }, versions };
}

const HIDDEN = ['1.0.10', '1.0.20', '1.0.40'];

describe('early signature verification (big packuments)', () => {
  let key: TestRegistryKey;
  let upstream: FakeRegistry;
  let cs: Running;

  before(async () => {
    key = createRegistryKey();
    upstream = await FakeRegistry.start({ key });
    upstream.overridePackument('big-compact', bigPackument('big-compact', key, upstream.url));
    upstream.overridePackument('big-pretty', JSON.stringify(bigPackument('big-pretty', key, upstream.url), null, 2));
    cs = await startCountersign({ yaml: verifyConfig(upstream.url) });
  });

  after(async () => {
    await cs.close();
    await upstream.close();
  });

  const metric = async (phase: string): Promise<number> => {
    const text = await (await fetch(new URL('/-/metrics', cs.url))).text();
    const line = text.split('\n').find((l) => l.startsWith(`countersign_registry_signature_verifications_total{phase="${phase}"}`));
    return line === undefined ? 0 : Number(line.split(' ').at(-1));
  };

  for (const name of ['big-compact', 'big-pretty']) {
    it(`${name}: hides exactly the versions whose signature does not hold`, async () => {
      const res = await fetch(new URL(`/${name}`, cs.url), { headers: { accept: 'application/json' } });
      assert.equal(res.status, 200);
      const doc = (await res.json()) as { versions: Record<string, unknown> };
      const served = new Set(Object.keys(doc.versions));
      assert.equal(served.size, COUNT - HIDDEN.length);
      for (const version of HIDDEN) assert.ok(!served.has(version), `${version} is hidden`);
      assert.ok(served.has('1.0.30') && served.has('1.0.41'));
    });
  }

  it('verified the compact one ahead of the parse, and the pretty-printed one after it', async () => {
    // The compact packument: every version but 1.0.30 and 1.0.40 guessed right. The guess for
    // 1.0.30 is wasted; the one for 1.0.40 is the very triple of 1.0.41, verified once.
    assert.equal(await metric('early-used'), COUNT - 2);
    assert.equal(await metric('early-unused'), 1);
    // The pretty one (400) and the two the guesses missed.
    assert.equal(await metric('after-parse'), COUNT + 2);
  });
});
