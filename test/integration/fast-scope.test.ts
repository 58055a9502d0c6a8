import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCountersign, type Running } from '../helpers/countersign.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { createRegistryKey } from '../helpers/registry-key.js';

const TOKEN = 'scope-token-abcdef';

describe('fast scopes', () => {
  let publicUpstream: FakeRegistry;
  let internal: FakeRegistry;
  let open: FakeRegistry;
  let cs: Running;

  before(async () => {
    publicUpstream = await FakeRegistry.start({ key: createRegistryKey() });
    internal = await FakeRegistry.start();
    internal.requiredToken = TOKEN;
    open = await FakeRegistry.start();
    await publicUpstream.publish([
      { name: '@acme/widget', version: '1.0.0' },
      { name: '@acme/only-public', version: '1.0.0' },
      { name: 'left', version: '1.0.0' },
    ]);
    await internal.publish([{ name: '@acme/widget', version: '2.0.0' }]);
    await open.publish([{ name: '@team/tool', version: '1.0.0' }]);
    cs = await startCountersign({
      yaml: `
server: { dataDir: "\${DATA_DIR}", shutdownGrace: 1s }
upstreams:
  npmjs: { url: ${publicUpstream.url}, keys: upstream }
  internal: { url: ${internal.url}, token: "\${TOKEN}" }
  team: { url: ${open.url} }
rules:
  - match: ["@acme/*"]
    mode: fast
    upstream: internal
  - match: ["@team/*"]
    mode: fast
    upstream: team
    forwardAuth: true
  - match: ["**"]
    upstream: npmjs
`,
      env: { TOKEN },
    });
  });

  after(async () => {
    await cs.close();
    await Promise.all([publicUpstream.close(), internal.close(), open.close()]);
  });

  it('serves the internal packument with tarball URLs repointed at countersign', async () => {
    const res = await fetch(`${cs.url}@acme%2fwidget`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { versions: Record<string, { dist: { tarball: string } }> };
    assert.deepEqual(Object.keys(doc.versions), ['2.0.0'], 'from the internal registry, not the public one');
    assert.equal(doc.versions['2.0.0']!.dist.tarball, `${cs.url}@acme/widget/-/widget-2.0.0.tgz`);
  });

  it('fetches internal tarballs with the scope token', async () => {
    const res = await fetch(`${cs.url}@acme/widget/-/widget-2.0.0.tgz`, { headers: { authorization: 'Bearer client-credential' } });
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), internal.tarball('@acme/widget', '2.0.0'));
    const seen = internal.requestsTo(/widget-2\.0\.0\.tgz/);
    assert.equal(seen.at(-1)?.headers.authorization, `Bearer ${TOKEN}`, 'the scope token replaces the client credential');
  });

  it('never resolves a fast-scope name from the public upstream (dependency confusion)', async () => {
    const res = await fetch(`${cs.url}@acme%2fonly-public`);
    assert.equal(res.status, 404);
    assert.equal(publicUpstream.requestsTo(/acme/).length, 0);
  });

  it('forwards the client credential when the rule says forwardAuth', async () => {
    const res = await fetch(`${cs.url}@team%2ftool`, { headers: { authorization: 'Bearer team-user' } });
    assert.equal(res.status, 200);
    assert.equal(open.requests.at(-1)?.headers.authorization, 'Bearer team-user');
  });

  it('passes publishes in a fast scope to its registry', async () => {
    const res = await fetch(`${cs.url}@acme%2fwidget`, { method: 'PUT', body: JSON.stringify({ name: '@acme/widget' }), headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 201);
    assert.equal(internal.requests.at(-1)?.method, 'PUT');
  });

  it('refuses to publish a public name with 405 and a reason', async () => {
    const res = await fetch(`${cs.url}left`, { method: 'PUT', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 405);
    const body = (await res.json()) as { error: string; code: string };
    assert.equal(body.code, 'ECS_PUBLISH_REFUSED');
    assert.match(body.error, /fast scope/);
    assert.equal(publicUpstream.requests.filter((r) => r.method === 'PUT').length, 0);
  });

  it('refuses a fast-scope request body over the cap', async () => {
    const res = await fetch(`${cs.url}@acme%2fwidget`, { method: 'PUT', body: 'x'.repeat(11_000_000), headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 413);
  });
});

describe('passthrough to the public upstream', () => {
  let upstream: FakeRegistry;
  let cs: Running;

  before(async () => {
    upstream = await FakeRegistry.start({ key: createRegistryKey() });
    cs = await startCountersign({ yaml: `server: { dataDir: "\${DATA_DIR}", shutdownGrace: 1s }\nupstreams:\n  npmjs: { url: ${upstream.url}, keys: upstream }\nrules:\n  - match: ["**"]\n` });
  });

  after(async () => {
    await cs.close();
    await upstream.close();
  });

  it('passes search, audit and ping without the client credentials', async () => {
    const headers = { authorization: 'Bearer npm_SECRETSECRET', cookie: 'session=1', 'npm-command': 'audit' };
    const search = await fetch(`${cs.url}-/v1/search?text=left&size=5`, { headers });
    assert.equal(search.status, 200);
    assert.equal(((await search.json()) as { total: number }).total, 0);
    const audit = await fetch(`${cs.url}-/npm/v1/security/advisories/bulk`, { method: 'POST', body: '{"left":["1.0.0"]}', headers: { ...headers, 'content-type': 'application/json' } });
    assert.equal(audit.status, 200);
    const quick = await fetch(`${cs.url}-/npm/v1/security/audits/quick`, { method: 'POST', body: '{}', headers: { ...headers, 'content-type': 'application/json' } });
    assert.equal(quick.status, 200);
    assert.equal((await fetch(`${cs.url}-/ping?write=true`, { headers })).status, 200);
    const seen = upstream.requestsTo(/^\/-\//);
    assert.equal(seen.length, 4);
    for (const req of seen) {
      assert.equal(req.headers.authorization, undefined);
      assert.equal(req.headers.cookie, undefined);
    }
    assert.equal(upstream.requestsTo(/bulk/)[0]?.headers['npm-command'], 'audit');
  });

  it('answers unknown registry-wide endpoints with 404 JSON', async () => {
    const res = await fetch(`${cs.url}-/whoami`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { code: string }).code, 'ECS_NOT_FOUND');
  });

  it('refuses a name that no rule matches', async () => {
    const only = await startCountersign({ yaml: `server: { dataDir: "\${DATA_DIR}", shutdownGrace: 1s }\nupstreams:\n  npmjs: { url: ${upstream.url}, keys: upstream }\nrules:\n  - match: ["@scope/*"]\n` });
    try {
      const res = await fetch(`${only.url}left`);
      assert.equal(res.status, 403);
      assert.equal(((await res.json()) as { code: string }).code, 'ECS_NO_RULE');
    } finally {
      await only.close();
    }
  });
});
