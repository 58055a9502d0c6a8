/**
 * Bug: the fast-scope proxy and the public passthrough piped upstream error answers to the
 * client untouched. A registry (or a proxy in front of it) that quotes the Authorization it got
 * in a 401/403 body handed countersign's configured token to any client that asked for a name
 * it would refuse. Error bodies are now read (capped), stripped of every configured token and of
 * anything shaped like a Bearer or Basic credential, and response headers never carry a token.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCountersign, type Running } from '../helpers/countersign.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { createRegistryKey } from '../helpers/registry-key.js';

const PUBLIC_TOKEN = 'pub-mirror-token-5a0c11';
const INTERNAL_TOKEN = 'internal-token-77e2b3';

describe('regression: upstream error bodies that quote credentials', () => {
  let publicUp: FakeRegistry;
  let internalUp: FakeRegistry;
  let cs: Running;

  before(async () => {
    publicUp = await FakeRegistry.start({ key: createRegistryKey() });
    internalUp = await FakeRegistry.start();
    await publicUp.publish([{ name: 'pub-echo', version: '1.0.0' }]);
    const echo = { kind: 'echo-auth', status: 401 } as const;
    internalUp.fault(/^\/@acme%2fechoed$/, echo);
    internalUp.fault(/^\/@acme\/echoed\/-\//, echo);
    internalUp.fault(/^\/@acme%2fpublished$/, { kind: 'echo-auth', status: 403 });
    publicUp.fault(/^\/pub-echo$/, echo);
    publicUp.fault(/^\/-\/v1\/search/, echo);
    publicUp.fault(/^\/-\/npm\/v1\/security\//, { kind: 'echo-auth', status: 500 });
    cs = await startCountersign({
      yaml: `
server: { dataDir: "\${DATA_DIR}", shutdownGrace: 1s }
upstreams:
  npmjs: { url: ${publicUp.url}, keys: upstream, token: ${PUBLIC_TOKEN} }
  internal: { url: ${internalUp.url}, token: ${INTERNAL_TOKEN} }
rules:
  - { match: ["@acme/*"], mode: fast, upstream: internal }
  - { match: ["**"], upstream: npmjs }
`,
    });
  });

  after(async () => {
    await cs.close();
    await publicUp.close();
    await internalUp.close();
  });

  const cases: Array<[string, RequestInit, number]> = [
    ['@acme%2fechoed', {}, 401], // fast packument (the rewriting proxy)
    ['@acme/echoed/-/echoed-1.0.0.tgz', {}, 401], // fast tarball (the piping proxy)
    ['@acme%2fpublished', { method: 'PUT', body: '{"name":"@acme/published"}', headers: { 'content-type': 'application/json' } }, 403],
    ['-/v1/search?text=x', {}, 401], // public passthrough
    ['-/npm/v1/security/advisories/bulk', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }, 500],
    ['pub-echo', {}, 502], // verified packument: never relayed, an error of ours
  ];
  for (const [path, init, status] of cases) {
    it(`${init.method ?? 'GET'} /${path}: ${status}, the body keeps its words but not the token`, async () => {
      const res = await fetch(cs.url + path, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: 'Bearer client-own-token' } });
      assert.equal(res.status, status);
      const text = await res.text();
      for (const secret of [PUBLIC_TOKEN, INTERNAL_TOKEN, 'client-own-token']) {
        assert.ok(!text.includes(secret), `body ${JSON.stringify(text)} has ${secret}`);
        assert.ok(!JSON.stringify([...res.headers]).includes(secret), `headers have ${secret}`);
      }
      assert.equal(res.headers.get('content-length'), String(Buffer.byteLength(text)));
      if (status !== 502) assert.match(text, /bad credentials: Bearer \[redacted\]/);
    });
  }

  it('the logs never had the tokens either', () => {
    const logs = JSON.stringify(cs.logs);
    for (const secret of [PUBLIC_TOKEN, INTERNAL_TOKEN, 'client-own-token']) assert.ok(!logs.includes(secret), secret);
  });
});
