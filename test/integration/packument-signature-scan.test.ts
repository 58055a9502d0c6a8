import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCountersign, verifyConfig, type Running } from '../helpers/countersign.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { createRegistryKey } from '../helpers/registry-key.js';

// Packuments from 256 KB on have their signatures found in the raw bytes and verified by the
// workers while the main thread parses. These cases check that the guess never decides anything:
// the verdicts are those of the parsed document, however the raw text is laid out.
describe('signatures of large packuments, scanned from the raw body', () => {
  const key = createRegistryKey();
  let upstream: FakeRegistry;
  let cs: Running;

  before(async () => {
    upstream = await FakeRegistry.start({ key });
    const versions: Record<string, unknown> = {};
    const time: Record<string, string> = { created: '2024-01-01T00:00:00.000Z', modified: '2024-01-01T00:00:00.000Z' };
    const filler = 'x'.repeat(1000);
    const add = (version: string, build: (integrity: string, signature: { keyid: string; sig: string }) => Record<string, unknown>, fill = 1) => {
      const integrity = `sha512-${Buffer.alloc(64, fill).toString('base64')}`;
      versions[version] = build(integrity, key.sign('big', version, integrity));
      time[version] = '2024-01-01T00:00:00.000Z';
    };
    const plain = (version: string) => (integrity: string, signature: { keyid: string; sig: string }) => ({
      name: 'big',
      version,
      description: filler,
      dist: { integrity, tarball: `${upstream.url}big/-/big-${version}.tgz`, signatures: [signature] },
    });
    for (let i = 0; i < 400; i++) add(`2.0.${i}`, plain(`2.0.${i}`), i % 200);
    // A forged signature: a valid signature of 2.0.1's message, copied onto 3.0.0.
    add('3.0.0', (integrity) => ({ ...plain('3.0.0')(integrity, key.sign('big', '2.0.1', `sha512-${Buffer.alloc(64, 1).toString('base64')}`)) }));
    // A signature over another integrity.
    add('3.0.1', (integrity) => plain('3.0.1')(integrity, key.sign('big', '3.0.1', `sha512-${Buffer.alloc(64, 9).toString('base64')}`)));
    // `dist` before `version`, and a decoy `version` in between: the scan misreads this one.
    add('3.0.2', (integrity, signature) => ({ name: 'big', config: { version: '9.9.9' }, dist: { integrity, tarball: `${upstream.url}big/-/big-3.0.2.tgz`, signatures: [signature] }, version: '3.0.2' }));
    // An integrity that the JSON text writes with an escaped slash: the scan skips it.
    add('3.0.3', plain('3.0.3'), 0xff);
    const text = JSON.stringify({ _id: 'big', name: 'big', 'dist-tags': { latest: '3.0.3' }, versions, time });
    const slashes = Buffer.alloc(64, 0xff).toString('base64');
    assert.ok(slashes.startsWith('//'));
    const escaped = text.replace(`"integrity":"sha512-${slashes}"`, `"integrity":"sha512-\\/${slashes.slice(1)}"`);
    assert.notEqual(escaped, text);
    assert.ok(escaped.length > 300 * 1024, 'over the scan threshold');
    upstream.overridePackument('big', escaped);

    // Large packuments taken whole by the fast path (scan.ts, spliced forms), with every
    // signature valid (all-good) or the latest one forged (bad-latest).
    for (const pkg of ['all-good', 'bad-latest']) {
      const own: Record<string, unknown> = {};
      const ownTime: Record<string, string> = { created: '2024-01-01T00:00:00.000Z', modified: '2024-01-01T00:00:00.000Z' };
      for (let i = 0; i < 300; i++) {
        const version = `1.0.${i}`;
        const integrity = `sha512-${Buffer.alloc(64, i % 250).toString('base64')}`;
        const forged = pkg === 'bad-latest' && i === 299;
        const signature = key.sign(pkg, version, forged ? `sha512-${Buffer.alloc(64, 251).toString('base64')}` : integrity);
        own[version] = { name: pkg, version, description: filler, dist: { integrity, tarball: `${upstream.url}${pkg}/-/${pkg}-${version}.tgz`, signatures: [signature] } };
        ownTime[version] = '2024-01-01T00:00:00.000Z';
      }
      const body = JSON.stringify({ _id: pkg, name: pkg, 'dist-tags': { latest: '1.0.299', next: '1.0.299' }, versions: own, time: ownTime });
      assert.ok(body.length > 300 * 1024, 'over the scan threshold');
      upstream.overridePackument(pkg, body);
    }
    cs = await startCountersign({ yaml: verifyConfig(upstream.url) });
  });

  after(async () => {
    await cs?.close();
    await upstream?.close();
  });

  it('serves what the parsed document says, and hides forged and misplaced signatures', async () => {
    const res = await fetch(new URL('/big', cs.url), { headers: { accept: 'application/json' } });
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { versions: Record<string, unknown>; 'dist-tags': Record<string, string> };
    const served = new Set(Object.keys(doc.versions));
    for (let i = 0; i < 400; i++) assert.ok(served.has(`2.0.${i}`), `2.0.${i}`);
    assert.equal(served.has('3.0.0'), false, 'a valid signature copied from another version');
    assert.equal(served.has('3.0.1'), false, 'a signature over another integrity');
    assert.ok(served.has('3.0.2'), 'fields in an unusual order');
    assert.ok(served.has('3.0.3'), 'an escaped integrity');
    assert.equal(doc['dist-tags'].latest, '3.0.3');
  });

  for (const [encoding, form] of [['gzip', 'application/json'], ['identity', 'application/vnd.npm.install-v1+json']] as const) {
    it(`serves every version when every signature verifies (${encoding}, ${form})`, async () => {
      const res = await fetch(new URL('/all-good', cs.url), { headers: { accept: form, 'accept-encoding': encoding } });
      assert.equal(res.status, 200);
      const doc = (await res.json()) as { versions: Record<string, unknown>; 'dist-tags': Record<string, string> };
      assert.equal(Object.keys(doc.versions).length, 300);
      assert.deepEqual(doc['dist-tags'], { latest: '1.0.299', next: '1.0.299' });
    });
  }

  it('hides a forged latest in both forms and repoints its tags to the version before', async () => {
    for (const form of ['application/vnd.npm.install-v1+json', 'application/json']) {
      const res = await fetch(new URL('/bad-latest', cs.url), { headers: { accept: form, 'accept-encoding': 'gzip' } });
      assert.equal(res.status, 200);
      const doc = (await res.json()) as { versions: Record<string, unknown>; 'dist-tags': Record<string, string> };
      assert.equal(Object.keys(doc.versions).length, 299, form);
      assert.equal(Object.hasOwn(doc.versions, '1.0.299'), false, form);
      assert.deepEqual(doc['dist-tags'], { latest: '1.0.298', next: '1.0.298' }, form);
    }
    const tarball = await fetch(new URL('/bad-latest/-/bad-latest-1.0.299.tgz', cs.url));
    assert.equal(tarball.status, 403);
    await tarball.body?.cancel();
  });
});
