import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCountersign, type Running } from '../helpers/countersign.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { createRegistryKey } from '../helpers/registry-key.js';
import { ADMIN_TOKEN, api, enrolKey, sha512Of, submitDocument } from '../helpers/trust-api.js';
import { auditEnvelope, enrolment, publishEnvelope, testSigner } from '../helpers/trust-sign.js';

function yaml(upstreamUrl: string, trust = 'submissionsPerMinute: 1000'): string {
  return `
server:
  dataDir: \${DATA_DIR}
  shutdownGrace: 1s
upstreams:
  npmjs:
    url: ${upstreamUrl}
    keys: upstream
    timeouts: { connect: 2s, headers: 5s, bodyIdle: 5s }
trust:
  ${trust}
rules:
  - match: ["audited-*"]
    require:
      audits: { min: 2, criteria: safe-to-deploy }
  - match: ["signed-*"]
    require:
      publisherSignature: required
  - match: ["**"]
    require:
      registrySignature: required
`;
}

const V1 = '/-/countersign/v1';

describe('trust API', () => {
  let upstream: FakeRegistry;
  let cs: Running;
  const alice = testSigner('acme/alice');
  const bob = testSigner('acme/bob');
  const carol = testSigner('acme/carol');

  before(async () => {
    upstream = await FakeRegistry.start({ key: createRegistryKey() });
    await upstream.publish([
      { name: 'audited-one', version: '1.0.0' },
      { name: 'audited-one', version: '1.1.0' },
      { name: 'audited-two', version: '2.0.0' },
      { name: 'audited-latest', version: '1.0.0' },
      { name: 'audited-latest', version: '2.0.0' },
      { name: 'signed-lib', version: '1.0.0' },
      { name: 'plain', version: '1.0.0' },
      { name: '@scope/lib', version: '3.0.0' },
    ]);
    cs = await startCountersign({ yaml: yaml(upstream.url), appOptions: { adminToken: ADMIN_TOKEN } });
    for (const signer of [alice, bob, carol]) assert.equal((await enrolKey(cs.url, enrolment(signer))).status, 201);
  });

  after(async () => {
    await cs.close();
    await upstream.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(new URL(path, cs.url), { headers: { accept: 'application/json', ...headers } });

  it('guards the admin API: 401 without or with a wrong token, never a fallback', async () => {
    const none = await api(cs.url, 'GET', `${V1}/keys`);
    assert.equal(none.status, 401);
    assert.equal(none.body.code, 'ECS_UNAUTHORIZED');
    assert.match(String(none.headers.get('www-authenticate')), /^Bearer/);
    assert.equal((await api(cs.url, 'GET', `${V1}/keys`, { token: `${ADMIN_TOKEN}x` })).status, 401);
    assert.equal((await api(cs.url, 'GET', `${V1}/keys`, { token: ADMIN_TOKEN.slice(0, -1) })).status, 401);
    assert.equal((await api(cs.url, 'POST', `${V1}/exemptions`, { body: { exemptions: [] } })).status, 401);
    const listed = await api(cs.url, 'GET', `${V1}/keys`, { token: ADMIN_TOKEN });
    assert.equal(listed.status, 200);
    assert.deepEqual((listed.body.keys as Array<{ principal: string }>).map((k) => k.principal).sort(), ['acme/alice', 'acme/bob', 'acme/carol']);
    // A document submission with a wrong token is refused too, not treated as anonymous.
    assert.equal((await submitDocument(cs.url, '{}', { authorization: 'Bearer nope' })).status, 401);
  });

  it('shows an audited version at once, explains each audit, and hides it again when a key is revoked', async () => {
    const sha = await sha512Of(cs.url, 'audited-two', '2.0.0');
    assert.equal((await get('/audited-two')).status, 403);

    const first = await submitDocument(cs.url, auditEnvelope(alice, { name: 'audited-two', version: '2.0.0', sha512: sha }));
    assert.equal(first.status, 201);
    assert.equal(first.body.type, 'audit');
    assert.equal((await get('/audited-two')).status, 403, 'one audit of two');
    const status = await api(cs.url, 'GET', `${V1}/status/audited-two/2.0.0`);
    assert.equal(status.body.allowed, false);
    const audits = (status.body.checks as Array<{ check: string; counted?: number; required?: number; audits?: Array<{ principal: string; counted: boolean; why: string }> }>).find((c) => c.check === 'audits')!;
    assert.equal(audits.counted, 1);
    assert.equal(audits.required, 2);
    assert.deepEqual(audits.audits!.map((a) => [a.principal, a.counted, a.why]), [['acme/alice', true, 'counts']]);
    assert.match(await (await get(`${V1}/badge/audited-two/2.0.0.svg`)).text(), /audited 1 of 2/);

    assert.equal((await submitDocument(cs.url, auditEnvelope(bob, { name: 'audited-two', version: '2.0.0', sha512: sha }))).status, 201);
    const shown = await get('/audited-two');
    assert.equal(shown.status, 200, 'the next packument request shows the version');
    assert.deepEqual(Object.keys(((await shown.json()) as { versions: object }).versions), ['2.0.0']);
    const badge = await get(`${V1}/badge/audited-two/2.0.0.svg`);
    assert.equal(badge.headers.get('content-type'), 'image/svg+xml; charset=utf-8');
    const svg = await badge.text();
    assert.match(svg, /audited 2 of 2/);
    assert.match(svg, /#4c1/, 'green');

    const revoked = await api(cs.url, 'POST', `${V1}/keys/${bob.keyid}/revoke`, { token: ADMIN_TOKEN, body: { reason: 'laptop stolen' } });
    assert.equal(revoked.status, 200);
    assert.equal((await get('/audited-two')).status, 403, 'revocation hides it again');
    const after = await api(cs.url, 'GET', `${V1}/status/audited-two/2.0.0`);
    const notes = (after.body.checks as Array<{ check: string; audits?: Array<{ principal: string; why: string }> }>).find((c) => c.check === 'audits')!.audits!;
    assert.match(notes.find((n) => n.principal === 'acme/bob')!.why, /revoked \(revoked by an admin: laptop stolen\): all its signatures are void/);
  });

  it('queues hidden versions clients asked for, most wanted first, with the nearest audited version', async () => {
    const sha100 = await sha512Of(cs.url, 'audited-one', '1.0.0');
    for (const signer of [alice, carol]) assert.equal((await submitDocument(cs.url, auditEnvelope(signer, { name: 'audited-one', version: '1.0.0', sha512: sha100 }))).status, 201);
    // 1.1.0 is hidden: two clients ask for its tarball (a lockfile install), one of them twice.
    for (const ua of ['npm/10 ci-1', 'npm/10 ci-2', 'npm/10 ci-2']) {
      assert.equal((await get('/audited-one/-/audited-one-1.1.0.tgz', { 'user-agent': ua })).status, 403);
    }
    assert.equal((await get('/plain/1.0.0')).status, 200);
    const queue = await api(cs.url, 'GET', `${V1}/queue`);
    assert.equal(queue.status, 200);
    const entries = queue.body.entries as Array<{ name: string; version: string; requests: number; clients: number; reasons: string[]; nearestAudited: { version: string; principals: string[] } | null }>;
    const entry = entries.find((e) => e.name === 'audited-one')!;
    assert.equal(entry.version, '1.1.0');
    assert.equal(entry.requests, 3);
    assert.equal(entry.clients, 2);
    assert.deepEqual(entry.reasons, ['audits']);
    assert.equal(entry.nearestAudited!.version, '1.0.0');
    assert.deepEqual(entry.nearestAudited!.principals.sort(), ['acme/alice', 'acme/carol']);
    assert.equal(entries[0]!.name, 'audited-one', 'most distinct clients first');
    const metrics = await (await fetch(new URL('/metrics', cs.url))).text();
    assert.match(metrics, /^countersign_audit_queue_depth [1-9]\d*$/m);

    // Once audited, it leaves the queue.
    const sha110 = await sha512Of(cs.url, 'audited-one', '1.1.0');
    for (const signer of [alice, carol]) await submitDocument(cs.url, auditEnvelope(signer, { name: 'audited-one', version: '1.1.0', sha512: sha110, kind: 'delta', from: { version: '1.0.0', sha512: sha100 } }));
    const later = await api(cs.url, 'GET', `${V1}/queue`);
    assert.equal((later.body.entries as Array<{ name: string }>).some((e) => e.name === 'audited-one'), false);
  });

  it('counts a packument request as demand for the upstream latest it holds back', async () => {
    const sha = await sha512Of(cs.url, 'audited-latest', '1.0.0');
    for (const signer of [alice, carol]) assert.equal((await submitDocument(cs.url, auditEnvelope(signer, { name: 'audited-latest', version: '1.0.0', sha512: sha }))).status, 201);
    for (const ua of ['npm/10 dev-1', 'npm/10 dev-2']) {
      const res = await get('/audited-latest', { 'user-agent': ua, accept: 'application/vnd.npm.install-v1+json' });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { 'dist-tags': Record<string, string>; versions: object };
      assert.equal(body['dist-tags']['latest'], '1.0.0');
      assert.deepEqual(Object.keys(body.versions), ['1.0.0']);
    }
    const queue = await api(cs.url, 'GET', `${V1}/queue`);
    const entry = (queue.body.entries as Array<{ name: string; version: string; requests: number; clients: number; nearestAudited: { version: string } | null }>).find((e) => e.name === 'audited-latest');
    assert.ok(entry, 'the held-back latest is queued');
    assert.equal(entry.version, '2.0.0');
    assert.equal(entry.requests, 2);
    assert.equal(entry.clients, 2);
    assert.equal(entry.nearestAudited!.version, '1.0.0');
    // A package whose latest is served adds nothing.
    assert.equal((await get('/plain')).status, 200);
    const again = await api(cs.url, 'GET', `${V1}/queue`);
    assert.equal((again.body.entries as Array<{ name: string }>).some((e) => e.name === 'plain'), false);
  });

  it('a violation audit hides a version that has its audits; the badge says so in red', async () => {
    const sha = await sha512Of(cs.url, 'audited-one', '1.0.0');
    assert.equal((await get('/audited-one/1.0.0')).status, 200);
    const dave = testSigner('acme/dave');
    await enrolKey(cs.url, enrolment(dave, { packages: ['audited-*'] }));
    assert.equal((await submitDocument(cs.url, auditEnvelope(dave, { name: 'audited-one', version: '1.0.0', sha512: sha, kind: 'violation', notes: 'postinstall exfiltrates tokens' }))).status, 201);
    const hidden = await get('/audited-one/1.0.0');
    assert.equal(hidden.status, 403);
    assert.match(((await hidden.json()) as { error: string }).error, /acme\/dave reported a violation: postinstall exfiltrates tokens/);
    const svg = await (await get(`${V1}/badge/audited-one/1.0.0.svg`)).text();
    assert.match(svg, /violation/);
    assert.match(svg, /#e05d44/);
  });

  it('checks publisher signatures for packages that require them', async () => {
    const sha = await sha512Of(cs.url, 'signed-lib', '1.0.0');
    assert.equal((await get('/signed-lib')).status, 403);
    const bot = testSigner('acme/release-bot');
    await enrolKey(cs.url, enrolment(bot, { roles: ['publish'], packages: ['signed-*'] }));
    assert.equal((await submitDocument(cs.url, publishEnvelope(bot, { name: 'signed-lib', version: '1.0.0', sha512: sha }))).status, 201);
    assert.equal((await get('/signed-lib')).status, 200);
    const refused = await submitDocument(cs.url, publishEnvelope(bot, { name: 'plain', version: '1.0.0', sha512: sha }));
    assert.equal(refused.status, 422);
    assert.equal(refused.body.code, 'ECS_KEY_NOT_VALID');
  });

  it('records baseline exemptions (admin) that let a version through until they expire', async () => {
    const sha = await sha512Of(cs.url, 'audited-one', '1.1.0');
    const res = await api(cs.url, 'POST', `${V1}/exemptions`, { token: ADMIN_TOKEN, body: { exemptions: [{ name: 'audited-two', version: '2.0.0', sha512: sha, expiresAt: new Date(Date.now() + 86_400_000).toISOString(), source: 'package-lock.json' }] } });
    assert.equal(res.status, 201);
    assert.equal((await get('/audited-two')).status, 403, 'the exemption is for other bytes');
    const bad = await api(cs.url, 'POST', `${V1}/exemptions`, { token: ADMIN_TOKEN, body: { exemptions: [{ name: 'x', version: '1', sha512: sha, expiresAt: 'soon', source: 's' }] } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'ECS_RECORD_INVALID');
  });

  it('exports documents as JSON Lines and imports them line by line (admin)', async () => {
    const exported = await get(`${V1}/documents?name=audited-two`);
    assert.equal(exported.status, 200);
    assert.match(String(exported.headers.get('content-type')), /application\/x-ndjson/);
    assert.match(String(exported.headers.get('x-countersign-log-head')), /^\d+:[0-9a-f]{64}$/);
    const lines = (await exported.text()).trim().split('\n');
    assert.equal(lines.length, 2, lines.join('\n'));
    const anonymous = await api(cs.url, 'POST', `${V1}/documents`, { raw: lines.join('\n'), headers: { 'content-type': 'application/x-ndjson' } });
    assert.equal(anonymous.status, 401);
    const imported = await api(cs.url, 'POST', `${V1}/documents`, { raw: `${lines.join('\n')}\nnot json\n`, token: ADMIN_TOKEN, headers: { 'content-type': 'application/x-ndjson' } });
    assert.equal(imported.status, 200);
    assert.equal(imported.body.duplicates, 2);
    assert.deepEqual((imported.body.rejected as Array<{ line: number; code: string }>).map((r) => [r.line, r.code]), [[3, 'ECS_DOCUMENT_INVALID']]);
  });

  it('answers status for unknown versions and bad paths with the right codes', async () => {
    assert.equal((await api(cs.url, 'GET', `${V1}/status/plain/9.9.9`)).body.code, 'ECS_NOT_FOUND');
    assert.equal((await api(cs.url, 'GET', `${V1}/status/plain/latest`)).body.code, 'ECS_BAD_VERSION');
    assert.equal((await api(cs.url, 'GET', `${V1}/status/plain`)).body.code, 'ECS_BAD_PATH');
    const badge = await get(`${V1}/badge/plain/9.9.9.svg`);
    assert.equal(badge.status, 404);
    assert.match(await badge.text(), /not found/);
    assert.match(await (await get(`${V1}/badge/plain/1.0.0.svg`)).text(), />verified</);
    const scoped = await api(cs.url, 'GET', `${V1}/status/@scope/lib/3.0.0`);
    assert.equal(scoped.body.name, '@scope/lib');
    assert.deepEqual((await api(cs.url, 'GET', `${V1}/status/@scope%2flib/3.0.0`)).body, scoped.body);
    assert.match(await (await get(`${V1}/badge/@scope/lib/3.0.0.svg`)).text(), />verified</);
  });
});

describe('trust API: limits and readiness', () => {
  let upstream: FakeRegistry;

  before(async () => {
    upstream = await FakeRegistry.start({ key: createRegistryKey() });
  });
  after(() => upstream.close());

  it('has no admin API at all when no admin token is configured', async () => {
    const cs = await startCountersign({ yaml: yaml(upstream.url) });
    try {
      for (const [method, path] of [['GET', `${V1}/keys`], ['POST', `${V1}/keys`], ['POST', `${V1}/exemptions`]] as const) {
        const res = await api(cs.url, method, path, { token: ADMIN_TOKEN, ...(method === 'POST' ? { body: {} } : {}) });
        assert.equal(res.status, 404, `${method} ${path}`);
        assert.equal(res.body.code, 'ECS_NOT_FOUND');
      }
    } finally {
      await cs.close();
    }
  });

  it('rate-limits document submissions per client, with Retry-After; the admin token is not limited', async () => {
    const cs = await startCountersign({ yaml: yaml(upstream.url, 'submissionsPerMinute: 3'), appOptions: { adminToken: ADMIN_TOKEN } });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) codes.push((await submitDocument(cs.url, '{}')).status);
      assert.deepEqual(codes, [400, 400, 400, 429]);
      const limited = await submitDocument(cs.url, '{}');
      assert.equal(limited.body.code, 'ECS_RATE_LIMITED');
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      assert.equal((await submitDocument(cs.url, '{}', { authorization: `Bearer ${ADMIN_TOKEN}` })).status, 400, 'admin submissions are not limited');
    } finally {
      await cs.close();
    }
  });

  it('is ready only while the trust store is open', async () => {
    const cs = await startCountersign({ yaml: yaml(upstream.url) });
    try {
      assert.equal((await fetch(new URL('/readyz', cs.url))).status, 200);
      cs.app.services.trust.store.close();
      const res = await fetch(new URL('/readyz', cs.url));
      assert.equal(res.status, 503);
      assert.equal(cs.app.ready, false);
      assert.equal((await fetch(new URL('/plain', cs.url))).status, 503);
    } finally {
      await cs.close();
    }
  });
});
