/**
 * Must hold 4: the client's Authorization (and cookies) never reach the public upstream; each
 * upstream gets only its own configured token (a fast scope's registry gets its token, or the
 * client's with forwardAuth); and neither logs nor answers ever contain a token. Error bodies
 * that quote credentials: regression-upstream-error-body-leaks-token.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCountersign, type Running } from '../helpers/countersign.js';
import { FakeRegistry, type RecordedRequest } from '../helpers/fake-registry.js';
import { createRegistryKey } from '../helpers/registry-key.js';

const PUBLIC_TOKEN = 'pub-mirror-token-4f1e9a';
const INTERNAL_TOKEN = 'internal-token-8c2d77';
const CLIENT_TOKEN = 'client-token-31b0c5';
const CLIENT_COOKIE = 'session=client-cookie-9e44aa';
const SECRETS = [PUBLIC_TOKEN, INTERNAL_TOKEN, CLIENT_TOKEN, 'client-cookie-9e44aa'];

const CLIENT_HEADERS = { authorization: `Bearer ${CLIENT_TOKEN}`, cookie: CLIENT_COOKIE };

function config(publicUrl: string, internalUrl: string, forwardUrl: string): string {
  return `
server: { dataDir: "\${DATA_DIR}", shutdownGrace: 1s }
upstreams:
  npmjs: { url: ${publicUrl}, keys: upstream, token: ${PUBLIC_TOKEN}, timeouts: { connect: 2s, headers: 5s, bodyIdle: 5s } }
  internal: { url: ${internalUrl}, token: ${INTERNAL_TOKEN} }
  forwarding: { url: ${forwardUrl} }
rules:
  - { match: ["@acme/*"], mode: fast, upstream: internal }
  - { match: ["@fwd/*"], mode: fast, upstream: forwarding, forwardAuth: true }
  - { match: ["**"], upstream: npmjs }
`;
}

function assertNoSecret(text: string, where: string, secrets = SECRETS): void {
  for (const secret of secrets) assert.ok(!text.includes(secret), `${where} contains ${secret}`);
}

describe('credentials', () => {
  let publicUp: FakeRegistry;
  let internalUp: FakeRegistry;
  let forwardUp: FakeRegistry;
  let cs: Running;

  before(async () => {
    publicUp = await FakeRegistry.start({ key: createRegistryKey() });
    internalUp = await FakeRegistry.start();
    forwardUp = await FakeRegistry.start();
    publicUp.requiredToken = PUBLIC_TOKEN;
    internalUp.requiredToken = INTERNAL_TOKEN;
    await publicUp.publish([{ name: 'pub', version: '1.0.0' }, { name: 'pub-echo', version: '1.0.0' }]);
    await internalUp.publish([{ name: '@acme/widget', version: '1.0.0' }]);
    await forwardUp.publish([{ name: '@fwd/thing', version: '1.0.0' }]);
    cs = await startCountersign({ yaml: config(publicUp.url, internalUp.url, forwardUp.url) });
  });

  after(async () => {
    await cs.close();
    await Promise.all([publicUp.close(), internalUp.close(), forwardUp.close()]);
  });

  const get = (path: string, init: RequestInit = {}) => fetch(cs.url + path, { ...init, headers: { ...CLIENT_HEADERS, ...(init.headers as Record<string, string>) } });

  function assertOnlyToken(requests: readonly RecordedRequest[], token: string | undefined, where: string): void {
    assert.ok(requests.length > 0, `${where}: no requests recorded`);
    for (const r of requests) {
      assert.equal(r.headers.authorization, token === undefined ? undefined : `Bearer ${token}`, `${where}: ${r.method} ${r.url}`);
      assert.equal(r.headers.cookie, undefined, `${where}: cookie on ${r.url}`);
      assertNoSecret(JSON.stringify(r.headers), `${where} headers of ${r.url}`, SECRETS.filter((s) => s !== token));
    }
  }

  it('the public upstream gets its own token, never the client’s, on every kind of request', async () => {
    assert.equal((await get('pub')).status, 200);
    assert.equal((await get('pub/1.0.0')).status, 200);
    assert.equal((await get('pub/-/pub-1.0.0.tgz')).status, 200);
    assert.equal((await get('-/v1/search?text=pub')).status, 200);
    assert.equal((await get('-/ping')).status, 200);
    const post = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"pub":["1.0.0"]}' };
    assert.equal((await get('-/npm/v1/security/advisories/bulk', post)).status, 200);
    assert.equal((await get('-/npm/v1/security/audits/quick', post)).status, 200);
    assertOnlyToken(publicUp.requests, PUBLIC_TOKEN, 'public upstream');
  });

  it('a fast scope’s registry gets its configured token instead of the client’s, for every path form', async () => {
    for (const path of ['@acme/widget', '@acme%2fwidget', '%40acme%2fwidget']) {
      assert.equal((await get(path)).status, 200, path);
    }
    const doc = (await (await get('@acme/widget')).json()) as { versions: Record<string, { dist: { tarball: string } }> };
    const tarball = doc.versions['1.0.0']!.dist.tarball;
    assert.ok(tarball.startsWith(cs.url), `tarball URL ${tarball} points at countersign`);
    const bytes = await fetch(tarball, { headers: CLIENT_HEADERS });
    assert.equal(bytes.status, 200);
    assert.deepEqual(Buffer.from(await bytes.arrayBuffer()), internalUp.tarball('@acme/widget', '1.0.0'));
    const publish = await get('@acme%2fwidget', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"name":"@acme/widget"}' });
    assert.equal(publish.status, 201);
    assertOnlyToken(internalUp.requests, INTERNAL_TOKEN, 'internal upstream');
  });

  it('forwardAuth: true forwards the client’s Authorization to that scope’s registry only', async () => {
    assert.equal((await get('@fwd/thing')).status, 200);
    assertOnlyToken(forwardUp.requests, CLIENT_TOKEN, 'forwarding upstream');
    assertOnlyToken(publicUp.requests, PUBLIC_TOKEN, 'public upstream, after the fast requests');
  });

  it('a 401 from the public upstream says to check the configured token, without showing it', async () => {
    publicUp.fault(/^\/pub-denied$/, { kind: 'echo-auth', status: 403 }, 1);
    const res = await get('pub-denied');
    assert.equal(res.status, 502);
    const body = (await res.json()) as { code: string; error: string };
    assert.equal(body.code, 'ECS_UPSTREAM_STATUS');
    assert.match(body.error, /answered 403 .*check the token configured for this upstream/);
  });

  it('no log line contains a token or the client’s credentials', () => {
    assert.ok(cs.logs.length >= 14, `${cs.logs.length} log lines`);
    assertNoSecret(JSON.stringify(cs.logs), 'the logs');
  });
});
