/**
 * Bug: every `/<name>/<version>` (or `/<name>/<tag>`) request parsed the whole cached upstream
 * packument again to cut one manifest out of it: for a 7 MB packument about 50 ms of CPU per
 * request of a hundred bytes, cached or not. A few clients asking for manifests of a big package
 * stalled the server. Manifests are now cut from the served full form, which already holds them
 * with their tarball URL rewritten; a warm manifest request does no JSON parsing of the document.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCountersign, type Running } from '../helpers/countersign.js';
import { FakeRegistry } from '../helpers/fake-registry.js';

describe('regression: a manifest request does not re-parse the packument', () => {
  let upstream: FakeRegistry;
  let cs: Running;
  const realParse = JSON.parse;
  let bigParses = 0;

  before(async () => {
    upstream = await FakeRegistry.start();
    const versions: Record<string, unknown> = {};
    const time: Record<string, string> = {};
    for (let i = 0; i < 1500; i++) {
      const v = `1.0.${i}`;
      // Non-ASCII text, so that byte and character offsets differ.
      versions[v] = { name: 'huge', version: v, description: `ünïcode ✓ ${'x'.repeat(1000)}`, dist: { integrity: `sha512-${Buffer.alloc(64, i % 256).toString('base64')}`, tarball: `${upstream.url}huge/-/huge-${v}.tgz` } };
      time[v] = '2020-01-01T00:00:00.000Z';
    }
    upstream.overridePackument('huge', { name: 'huge', 'dist-tags': { latest: '1.0.1499', old: '1.0.7' }, versions, time });
    cs = await startCountersign({
      yaml: `
server: { dataDir: "\${DATA_DIR}", shutdownGrace: 1s }
upstreams:
  npmjs: { url: ${upstream.url}, keys: none }
rules:
  - { match: ["**"], require: { registrySignature: off } }
`,
    });
    JSON.parse = function (this: unknown, text: string, reviver?: (this: unknown, key: string, value: unknown) => unknown) {
      if (typeof text === 'string' && text.length > 1_000_000) bigParses++;
      return realParse.call(this, text, reviver) as unknown;
    } as typeof JSON.parse;
  });

  after(async () => {
    JSON.parse = realParse;
    await cs.close();
    await upstream.close();
  });

  it('serves manifests (by version and by tag) equal to those in the packument, parsing nothing big once warm', async () => {
    const doc = (await (await fetch(`${cs.url}huge`)).json()) as { versions: Record<string, unknown> };
    assert.ok(bigParses > 0, 'the spy sees the packument being parsed when it is loaded');
    const before = bigParses;
    for (const spec of ['1.0.0', '1.0.7', '1.0.1499', 'latest', 'old', '1.0.742']) {
      const res = await fetch(`${cs.url}huge/${spec}`);
      assert.equal(res.status, 200, spec);
      const manifest = (await res.json()) as { version: string; dist: { tarball: string } };
      const version = spec === 'latest' ? '1.0.1499' : spec === 'old' ? '1.0.7' : spec;
      assert.deepEqual(manifest, doc.versions[version], spec);
      assert.equal(manifest.dist.tarball, `${cs.url}huge/-/huge-${version}.tgz`);
    }
    assert.equal(bigParses, before, 'manifest requests re-parsed the whole packument');
  });
});
