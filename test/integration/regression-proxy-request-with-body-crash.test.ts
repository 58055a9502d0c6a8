/**
 * Bug: the passthrough and fast-scope proxies removed and set headers (Authorization, cookies)
 * in http-proxy's 'proxyReq' event, which fires when the outgoing request gets its socket. When
 * the client's body was already piped into it by then (a keep-alive socket is handed over a
 * tick later), the headers were already sent and removeHeader threw ERR_HTTP_HEADERS_SENT from
 * an event handler: an uncaught exception that killed the server. `npm audit` (a POST run by
 * every `npm install`) or an `npm publish` to a fast scope was enough.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawnCountersign, type ChildCountersign } from '../helpers/child-countersign.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { createRegistryKey } from '../helpers/registry-key.js';

describe('regression: requests with a body through the proxies', () => {
  let publicUp: FakeRegistry;
  let internalUp: FakeRegistry;
  let cs: ChildCountersign;

  before(async () => {
    publicUp = await FakeRegistry.start({ key: createRegistryKey() });
    internalUp = await FakeRegistry.start();
    internalUp.requiredToken = 'internal-token';
    cs = await spawnCountersign(`
server: { dataDir: "\${DATA_DIR}", shutdownGrace: 1s }
log: { level: error }
upstreams:
  npmjs: { url: ${publicUp.url}, keys: upstream }
  internal: { url: ${internalUp.url}, token: internal-token }
rules:
  - { match: ["@acme/*"], mode: fast, upstream: internal }
  - { match: ["**"], upstream: npmjs }
`);
  });

  after(async () => {
    await cs.close();
    await publicUp.close();
    await internalUp.close();
  });

  const headers = { 'content-type': 'application/json', authorization: 'Bearer client-token', cookie: 'a=b' };

  it('npm audit POSTs pass through, repeatedly, on reused connections, and the server lives', async () => {
    // A GET first, so that the POSTs get a kept-alive socket.
    assert.equal((await fetch(`${cs.url}-/ping`)).status, 200);
    for (const path of ['-/npm/v1/security/advisories/bulk', '-/npm/v1/security/audits/quick', '-/npm/v1/security/advisories/bulk']) {
      const res = await fetch(cs.url + path, { method: 'POST', headers, body: JSON.stringify({ 'left-pad': ['1.3.0'] }) });
      assert.equal(res.status, 200, path);
      await res.arrayBuffer();
    }
    const posts = publicUp.requests.filter((r) => r.method === 'POST');
    assert.equal(posts.length, 3);
    for (const r of posts) {
      assert.equal(r.headers.authorization, undefined);
      assert.equal(r.headers.cookie, undefined);
      assert.ok(r.bodyComplete && r.bodyBytes === 22, `${r.url}: ${r.bodyBytes} bytes`);
    }
  });

  it('publishes to a fast scope pass through with the scope’s token, and the server lives', async () => {
    assert.equal((await fetch(`${cs.url}@acme%2fwidget`)).status, 404);
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${cs.url}@acme%2fwidget`, { method: 'PUT', headers, body: JSON.stringify({ name: '@acme/widget', i }) });
      assert.equal(res.status, 201);
      await res.arrayBuffer();
    }
    const puts = internalUp.requests.filter((r) => r.method === 'PUT');
    assert.equal(puts.length, 3);
    for (const r of puts) {
      assert.equal(r.headers.authorization, 'Bearer internal-token');
      assert.equal(r.headers.cookie, undefined);
    }
  });

  it('no crash, no unhandled rejection', async () => {
    assert.equal((await fetch(`${cs.url}healthz`)).status, 200);
    assert.equal(cs.child.exitCode, null);
    assert.deepEqual(cs.faults, []);
  });
});
