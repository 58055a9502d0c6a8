/**
 * Bug: concurrent requests for one uncached packument shared one upstream fetch only when they
 * came with the same Host header (the single-flight key held the public base URL, which is
 * derived from Host). Requests under N host names fetched, buffered and parsed the packument N
 * times at once, so a client could multiply the memory a large packument takes (up to
 * packuments.maxSize each) just by varying Host.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCountersign, verifyConfig, type Running } from '../helpers/countersign.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { rawGet } from '../helpers/http.js';
import { createRegistryKey } from '../helpers/registry-key.js';

describe('regression: one upstream fetch per packument, whatever the Host headers', () => {
  let upstream: FakeRegistry;
  let cs: Running;

  before(async () => {
    upstream = await FakeRegistry.start({ key: createRegistryKey() });
    await upstream.publish([{ name: 'shared', version: '1.0.0' }]);
    // The first fetch takes a while, so that every request below arrives while it runs.
    upstream.fault(/^\/shared$/, { kind: 'slow-body', ms: 400 }, 1);
    cs = await startCountersign({ yaml: verifyConfig(upstream.url) });
  });

  after(async () => {
    await cs.close();
    await upstream.close();
  });

  it('eight concurrent requests under eight host names: one upstream request, eight right answers', async () => {
    const hosts = Array.from({ length: 8 }, (_, i) => `mirror-${i}.example:4874`);
    const answers = await Promise.all(hosts.map((host) => rawGet(new URL(cs.url), '/shared', { host })));
    assert.equal(upstream.requestsTo(/^\/shared$/).length, 1);
    answers.forEach((res, i) => {
      assert.equal(res.status, 200);
      const doc = JSON.parse(res.body) as { versions: Record<string, { dist: { tarball: string } }> };
      // Each answer still carries tarball URLs for the host it was asked under.
      assert.equal(doc.versions['1.0.0']!.dist.tarball, `http://${hosts[i]}/shared/-/shared-1.0.0.tgz`);
    });
  });
});
