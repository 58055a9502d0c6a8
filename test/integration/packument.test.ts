import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { rawGet } from '../helpers/http.js';
import { startCountersign, verifyConfig, type Running } from '../helpers/countersign.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { createRegistryKey } from '../helpers/registry-key.js';

interface Packument {
  name: string;
  'dist-tags': Record<string, string>;
  versions: Record<string, { version: string; dist: { tarball: string; integrity: string } }>;
  time?: Record<string, string>;
  modified?: string;
}

describe('verified packuments', () => {
  let upstream: FakeRegistry;
  let cs: Running;

  before(async () => {
    const key = createRegistryKey();
    upstream = await FakeRegistry.start({ key, otherKey: createRegistryKey() });
    await upstream.publish([
      { name: 'alpha', version: '1.0.0' },
      { name: 'alpha', version: '1.1.0' },
      { name: 'alpha', version: '1.2.0-beta.1', tags: ['next'] },
      { name: 'alpha', version: '2.0.0', sign: 'invalid', tags: ['latest'] },
      { name: 'alpha', version: '2.1.0-rc.1', sign: 'none', tags: ['beta'] },
      { name: '@scope/beta', version: '1.0.0' },
      { name: 'gamma', version: '1.0.0', sign: 'other-key' },
      { name: 'gamma', version: '1.0.1', sign: 'none' },
    ]);
    cs = await startCountersign({ yaml: verifyConfig(upstream.url) });
  });

  after(async () => {
    await cs.close();
    await upstream.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(new URL(path, cs.url), { headers });

  it('hides versions with a bad or missing signature from versions and time', async () => {
    const res = await get('/alpha');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const doc = (await res.json()) as Packument;
    assert.deepEqual(Object.keys(doc.versions).sort(), ['1.0.0', '1.1.0', '1.2.0-beta.1']);
    assert.ok(doc.time);
    assert.equal(doc.time['2.0.0'], undefined);
    assert.equal(doc.time['2.1.0-rc.1'], undefined);
    assert.ok(doc.time.created && doc.time.modified, 'created and modified stay');
  });

  it('repoints dist-tags: latest to the highest allowed stable, drops a tag with no candidate', async () => {
    const doc = (await (await get('/alpha')).json()) as Packument;
    assert.equal(doc['dist-tags'].latest, '1.1.0');
    assert.equal(doc['dist-tags'].next, '1.2.0-beta.1');
    assert.equal(doc['dist-tags'].beta, undefined, 'no allowed 2.x prerelease for beta');
  });

  it('rewrites every tarball URL to countersign', async () => {
    const doc = (await (await get('/alpha')).json()) as Packument;
    for (const v of Object.values(doc.versions)) assert.equal(v.dist.tarball, `${cs.url}alpha/-/alpha-${v.version}.tgz`);
  });

  it('serves the abbreviated form it derives itself', async () => {
    const res = await get('/alpha', { accept: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*' });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/vnd\.npm\.install-v1\+json/);
    const doc = (await res.json()) as Packument & Record<string, unknown>;
    assert.deepEqual(Object.keys(doc).sort(), ['dist-tags', 'modified', 'name', 'versions']);
    assert.equal(doc.time, undefined);
    assert.deepEqual(Object.keys(doc.versions).sort(), ['1.0.0', '1.1.0', '1.2.0-beta.1']);
    const upstreamRequests = upstream.requestsTo(/^\/alpha$/);
    assert.ok(upstreamRequests.every((r) => r.headers.accept === 'application/json'), 'always asks the upstream for the full form');
  });

  it('serves scoped packages at /@scope%2fname and /@scope/name alike', async () => {
    const a = (await (await get('/@scope%2fbeta')).json()) as Packument;
    const b = (await (await get('/@scope/beta')).json()) as Packument;
    assert.equal(a.name, '@scope/beta');
    assert.deepEqual(a, b);
    assert.equal(a.versions['1.0.0']!.dist.tarball, `${cs.url}@scope/beta/-/beta-1.0.0.tgz`);
  });

  it('answers 304 for a matching If-None-Match and says what varies', async () => {
    const first = await get('/alpha');
    const etag = first.headers.get('etag');
    assert.ok(etag);
    assert.equal(first.headers.get('vary'), 'Accept, Accept-Encoding');
    const second = await get('/alpha', { 'if-none-match': etag });
    assert.equal(second.status, 304);
    const abbreviated = await get('/alpha', { accept: 'application/vnd.npm.install-v1+json' });
    assert.notEqual(abbreviated.headers.get('etag'), etag, 'each form has its own ETag');
  });

  it('gzips when asked, with its own ETag', async () => {
    const { request } = await import('undici');
    const res = await request(new URL('/alpha', cs.url), { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-encoding'], 'gzip');
    const body = Buffer.from(await res.body.arrayBuffer());
    const doc = JSON.parse(gunzipSync(body).toString('utf8')) as Packument;
    assert.equal(doc.name, 'alpha');
    assert.match(String(res.headers.etag), /-gz"$/);
  });

  it('serves version and tag manifests, refusing hidden ones with the reason', async () => {
    const byVersion = await get('/alpha/1.0.0');
    assert.equal(byVersion.status, 200);
    assert.equal(((await byVersion.json()) as { version: string }).version, '1.0.0');
    const byTag = (await (await get('/alpha/latest')).json()) as { version: string; dist: { tarball: string } };
    assert.equal(byTag.version, '1.1.0');
    assert.equal(byTag.dist.tarball, `${cs.url}alpha/-/alpha-1.1.0.tgz`);
    const hidden = await get('/alpha/2.0.0');
    assert.equal(hidden.status, 403);
    const body = (await hidden.json()) as { error: string; code: string };
    assert.equal(body.code, 'ECS_VERSION_HIDDEN');
    assert.match(body.error, /invalid registry signature/);
    assert.equal((await get('/alpha/9.9.9')).status, 404);
  });

  it('answers 403 with the reasons when every version is hidden', async () => {
    const res = await get('/gamma');
    assert.equal(res.status, 403);
    const body = (await res.json()) as { error: string; code: string };
    assert.equal(body.code, 'ECS_ALL_VERSIONS_HIDDEN');
    assert.match(body.error, /all 2 versions of gamma are hidden/);
    assert.match(body.error, /signature-unknown-key/);
    assert.match(body.error, /signature-missing/);
    assert.match(body.error, /queue/);
  });

  it('answers 404 for a package the upstream lacks', async () => {
    const res = await get('/no-such-package');
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { code: string }).code, 'ECS_NOT_FOUND');
  });

  it('refuses bad names and traversal with 400', async () => {
    const paths = ['/..%2f..%2fetc%2fpasswd', '/%2e%2e', '/%2e%2e/%2e%2e/etc/passwd', '/foo%00bar', '/@scope%2fname%2fextra', `/${'a'.repeat(215)}`, '/.hidden', '/alpha/-/..%2falpha-1.0.0.tgz', '/alpha/-/other-1.0.0.tgz'];
    for (const path of paths) {
      // A raw request: fetch() would normalize the dot segments away before sending.
      const res = await rawGet(new URL(cs.url), path);
      assert.equal(res.status, 400, path);
      assert.match((JSON.parse(res.body) as { code: string }).code, /^ECS_(BAD_|TARBALL_NAME)/, path);
    }
  });

  it('does not do JSON work for a warm request: the upstream is asked once', async () => {
    const before = upstream.requestsTo(/^\/@scope%2fbeta$/).length;
    for (let i = 0; i < 5; i++) await (await get('/@scope/beta')).arrayBuffer();
    assert.equal(upstream.requestsTo(/^\/@scope%2fbeta$/).length, before);
  });

  it('exports the request and verification metrics', async () => {
    const text = await (await get('/metrics')).text();
    for (const name of [
      'countersign_verification_duration_seconds_bucket{le="0.0001",check="registry-signature"}',
      'countersign_packument_rewrite_duration_seconds_count',
      'countersign_request_duration_seconds_count{route="packument",mode="verify",status="200"}',
      'countersign_upstream_request_duration_seconds_count{upstream="npmjs",kind="packument"}',
      'countersign_versions_hidden_total{reason="signature-invalid"}',
      'countersign_cache_requests_total{cache="packument",result="hit"}',
    ]) {
      assert.ok(text.includes(name), `missing ${name}`);
    }
  });
});
