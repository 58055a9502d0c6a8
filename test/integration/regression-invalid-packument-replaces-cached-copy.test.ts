/**
 * Bug: a packument that is valid JSON but not a packument (versions not an object, another
 * package's name) replaced the cached good copy before it was checked. The request got 502
 * instead of the stale copy, and the broken body stayed cached as fresh: every request for the
 * next packuments.maxAge re-parsed it and failed, even after the upstream was fixed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCountersign, verifyConfig, type Running } from '../helpers/countersign.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { createRegistryKey } from '../helpers/registry-key.js';

describe('regression: a packument that is not a packument never replaces the cached copy', () => {
  let upstream: FakeRegistry;
  let cs: Running;
  let clock = Date.now();

  before(async () => {
    upstream = await FakeRegistry.start({ key: createRegistryKey() });
    await upstream.publish([{ name: 'kept', version: '1.0.0' }, { name: 'kept', version: '1.1.0' }]);
    cs = await startCountersign({ yaml: verifyConfig(upstream.url), now: () => clock });
    assert.equal((await fetch(`${cs.url}kept`)).status, 200);
  });

  after(async () => {
    await cs.close();
    await upstream.close();
  });

  const broken: Array<[string, unknown]> = [
    ['versions is an array', { name: 'kept', versions: [] }],
    ['names another package', { name: 'other', versions: {} }],
    ['is not an object', ['kept']],
  ];
  for (const [what, doc] of broken) {
    it(`upstream sends one that ${what}: the cached copy is served stale`, async () => {
      clock += 10 * 60_000; // due for revalidation
      upstream.overridePackument('kept', doc);
      const res = await fetch(`${cs.url}kept`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-countersign-stale'), 'ECS_UPSTREAM_INVALID_JSON');
      assert.deepEqual(Object.keys(((await res.json()) as { versions: object }).versions), ['1.0.0', '1.1.0']);
    });
  }

  it('once the upstream is fixed, the next request serves it fresh: nothing broken was cached', async () => {
    upstream.overridePackument('kept', undefined);
    const asked = upstream.requestsTo(/^\/kept$/).length;
    const res = await fetch(`${cs.url}kept`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-countersign-stale'), null);
    assert.equal(upstream.requestsTo(/^\/kept$/).length, asked + 1);
  });

  it('an uncached packument that is not a packument is still 502 ECS_UPSTREAM_INVALID_JSON', async () => {
    upstream.overridePackument('never-good', { name: 'never-good', versions: 'all of them' });
    const res = await fetch(`${cs.url}never-good`);
    assert.equal(res.status, 502);
    const body = (await res.json()) as { code: string; error: string };
    assert.equal(body.code, 'ECS_UPSTREAM_INVALID_JSON');
    assert.match(body.error, /"versions" that is not an object \(got string\)/);
  });
});
