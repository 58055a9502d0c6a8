/**
 * Must hold 5: a name in a fast (internal) scope is only ever looked up in its own registry.
 * When that registry lacks it, is down or fails, the client gets its answer (404, 503, 5xx),
 * and the public upstream, where anyone can publish that name, never sees the request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCountersign, type Running } from '../helpers/countersign.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { createRegistryKey } from '../helpers/registry-key.js';

describe('dependency confusion', () => {
  let publicUp: FakeRegistry;
  let internalUp: FakeRegistry;
  let downUp: FakeRegistry;
  let cs: Running;

  before(async () => {
    publicUp = await FakeRegistry.start({ key: createRegistryKey() });
    internalUp = await FakeRegistry.start();
    downUp = await FakeRegistry.start();
    // The attacker published the internal names on the public registry, signed and valid.
    await publicUp.publish([
      { name: '@acme/missing', version: '99.0.0' },
      { name: '@acme/widget', version: '99.0.0' },
      { name: 'acme-internal-lib', version: '99.0.0' },
      { name: '@down/anything', version: '99.0.0' },
    ]);
    await internalUp.publish([{ name: '@acme/widget', version: '1.0.0' }]);
    internalUp.fault(/^\/@acme%2fbroken/, { kind: 'status', status: 500 });
    cs = await startCountersign({
      yaml: `
server: { dataDir: "\${DATA_DIR}", shutdownGrace: 1s }
upstreams:
  npmjs: { url: ${publicUp.url}, keys: upstream }
  internal: { url: ${internalUp.url}, token: internal-token }
  down: { url: ${downUp.url}, timeouts: { connect: 1s, headers: 1s, bodyIdle: 1s } }
rules:
  - { match: ["@acme/*", "acme-internal-lib"], mode: fast, upstream: internal }
  - { match: ["@down/*"], mode: fast, upstream: down }
  - { match: ["**"], upstream: npmjs }
`,
    });
    await downUp.close(); // its port now refuses connections
  });

  after(async () => {
    await cs.close();
    await publicUp.close();
    await internalUp.close();
  });

  const publicSaw = (name: string) => publicUp.requests.filter((r) => decodeURIComponent(r.url).includes(name));

  it('a scoped internal name the internal registry lacks is 404 under every path form, never asked publicly', async () => {
    const paths = ['@acme/missing', '@acme%2fmissing', '%40acme%2fmissing', '@acme%2Fmissing', '@acme/missing/99.0.0', '@acme/missing/latest', '@acme/missing/-/missing-99.0.0.tgz', '@acme%2fmissing/-/missing-99.0.0.tgz'];
    for (const path of paths) {
      for (const method of ['GET', 'HEAD']) {
        const res = await fetch(cs.url + path, { method });
        assert.equal(res.status, 404, `${method} ${path}`);
      }
    }
    assert.deepEqual(publicSaw('@acme/missing'), []);
    assert.ok(internalUp.requestsTo(/missing/).length >= paths.length, 'the internal registry was asked');
  });

  it('an unscoped name listed in a fast rule behaves the same', async () => {
    assert.equal((await fetch(`${cs.url}acme-internal-lib`)).status, 404);
    assert.equal((await fetch(`${cs.url}acme-internal-lib/-/acme-internal-lib-99.0.0.tgz`)).status, 404);
    assert.deepEqual(publicSaw('acme-internal-lib'), []);
  });

  it('a version the internal registry lacks is not taken from the public one', async () => {
    const doc = (await (await fetch(`${cs.url}@acme/widget`)).json()) as { versions: Record<string, unknown> };
    assert.deepEqual(Object.keys(doc.versions), ['1.0.0']);
    assert.equal((await fetch(`${cs.url}@acme/widget/-/widget-99.0.0.tgz`)).status, 404);
    assert.deepEqual(publicSaw('@acme/widget'), []);
  });

  it('an internal registry that fails or is down is an error, not a reason to look elsewhere', async () => {
    const broken = await fetch(`${cs.url}@acme%2fbroken`);
    assert.equal(broken.status, 500);
    const down = await fetch(`${cs.url}@down/anything`);
    assert.equal(down.status, 503);
    assert.equal(((await down.json()) as { code: string }).code, 'ECS_UPSTREAM_UNREACHABLE');
    assert.deepEqual(publicSaw('@acme/broken'), []);
    assert.deepEqual(publicSaw('@down/anything'), []);
  });

  it('the public upstream was asked for nothing at all', () => {
    assert.deepEqual(publicUp.requests.map((r) => r.url), []);
  });
});
