/**
 * Must hold 2: hostile packuments each get a clear decision and never a crash. A document that
 * cannot be a packument is 502 ECS_UPSTREAM_INVALID_JSON; a bad version is hidden (malformed, or
 * the check it fails) while the rest of the package is served; bad dist-tags are dropped or
 * repointed; prototype keys are dropped; tarballs on other origins are never fetched.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startCountersign, verifyConfig, type Running } from '../helpers/countersign.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { createRegistryKey, type TestRegistryKey } from '../helpers/registry-key.js';

interface Packument {
  name: string;
  'dist-tags': Record<string, unknown>;
  versions: Record<string, { version: string; dist: { tarball: string } }>;
  time?: Record<string, string>;
}

type Doc = Record<string, unknown> & { versions: Record<string, Record<string, unknown> & { dist: Record<string, unknown> }>; time: Record<string, string> };

describe('hostile packuments', () => {
  let key: TestRegistryKey;
  let upstream: FakeRegistry;
  let elsewhere: Server;
  let elsewhereUrl: string;
  const elsewhereRequests: string[] = [];
  let cs: Running;
  let warn: Running;

  before(async () => {
    key = createRegistryKey();
    upstream = await FakeRegistry.start({ key });
    elsewhere = createServer((req, res) => {
      elsewhereRequests.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end('not what you wanted');
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    elsewhereUrl = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/`;
    const versions = (name: string, list: string[]) => list.map((version) => ({ name, version }));
    await upstream.publish([
      ...versions('tags-hostile', ['1.0.0', '1.2.0', '2.0.0-rc.1']),
      { name: 'tags-hostile', version: '1.1.0', sign: 'invalid' },
      ...versions('tags-string', ['1.0.0', '1.1.0', '2.0.0-beta.0']),
      ...versions('proto-hostile', ['1.0.0']),
      ...versions('long-versions', ['1.0.0']),
      ...versions('integrity-hostile', ['1.0.0', '1.0.1', '1.0.2', '1.0.3', '1.0.4', '1.0.5', '1.0.6', '1.0.7', '1.0.8', '1.0.9']),
      ...versions('foreign-tarballs', ['1.0.0', '1.0.1', '1.0.2', '1.0.3', '1.0.4', '1.0.5', '1.0.6', '1.0.7']),
    ]);
    cs = await startCountersign({ yaml: verifyConfig(upstream.url) });
    warn = await startCountersign({ yaml: `${verifyConfig(upstream.url)}    onViolation: warn\n` });
  });

  after(async () => {
    await cs.close();
    await warn.close();
    await upstream.close();
    await new Promise<void>((resolve) => elsewhere.close(() => resolve()));
  });

  /** The fake's own packument of `name`, as a mutable copy. */
  const docOf = (name: string): Doc => JSON.parse(JSON.stringify(upstream.packument(name))) as Doc;

  /** Gives a version a new integrity, signed by the registry key so that only the integrity is wrong. */
  function setIntegrity(doc: Doc, version: string, integrity: unknown): void {
    const dist = doc.versions[version]!.dist;
    dist['integrity'] = integrity;
    dist['signatures'] = typeof integrity === 'string' ? [key.sign(doc.name as string, version, integrity)] : [];
  }

  async function packument(server: Running, name: string): Promise<Packument> {
    const res = await fetch(server.url + name);
    assert.equal(res.status, 200, `${name}: ${res.status}`);
    return (await res.json()) as Packument;
  }

  async function refused(server: Running, path: string, status: number, code: string, message: RegExp): Promise<void> {
    const res = await fetch(server.url + path);
    assert.equal(res.status, status, path);
    const body = (await res.json()) as { code: string; error: string };
    assert.equal(body.code, code, path);
    assert.match(body.error, message, path);
  }

  function assertConsistent(doc: Packument): void {
    for (const [tag, version] of Object.entries(doc['dist-tags'])) {
      assert.ok(typeof version === 'string' && Object.hasOwn(doc.versions, version), `dist-tag ${tag} -> ${String(version)}`);
    }
    for (const key of Object.keys(doc.time ?? {})) {
      assert.ok(key === 'created' || key === 'modified' || Object.hasOwn(doc.versions, key), `time.${key}`);
    }
  }

  it('a document that cannot be a packument: 502 ECS_UPSTREAM_INVALID_JSON, saying why', async () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ['top-array', '["top-array"]', /is not a JSON object \(got an array\)/],
      ['top-string', '"top-string"', /is not a JSON object \(got string\)/],
      ['top-null', 'null', /is not a JSON object \(got null\)/],
      ['versions-string', { name: 'versions-string', versions: '1.0.0' }, /"versions" that is not an object \(got string\)/],
      ['versions-array', { name: 'versions-array', versions: [{ version: '1.0.0' }] }, /"versions" that is not an object \(got an array\)/],
      ['versions-number', { name: 'versions-number', versions: 7 }, /"versions" that is not an object \(got number\)/],
      ['versions-null', { name: 'versions-null', versions: null }, /"versions" that is not an object \(got null\)/],
      ['name-other', { name: 'left-pad', versions: {} }, /names another package: "left-pad"/],
      ['name-number', { name: 42, versions: {} }, /names another package: number/],
    ];
    for (const [name, doc, message] of cases) {
      upstream.overridePackument(name, doc);
      await refused(cs, name, 502, 'ECS_UPSTREAM_INVALID_JSON', message);
    }
  });

  it('dist-tags that are not strings, name missing or hidden versions, or have hostile names: dropped or repointed', async () => {
    const doc = docOf('tags-hostile');
    const tags = `{"latest":"9.9.9","hidden":"1.1.0","next":42,"beta":null,"canary":{"v":"1.0.0"},"rc":"2.0.0-rc.1",` +
      `"__proto__":"1.0.0","constructor":"1.0.0","has space":"1.0.0","${'t'.repeat(200)}":"1.0.0","long":"${'9'.repeat(300)}","v1":"1.0.0"}`;
    upstream.overridePackument('tags-hostile', JSON.stringify({ ...doc, 'dist-tags': {} }).replace('"dist-tags":{}', `"dist-tags":${tags}`));
    const served = await packument(cs, 'tags-hostile');
    assert.deepEqual(Object.keys(served.versions).sort(), ['1.0.0', '1.2.0', '2.0.0-rc.1'], '1.1.0 has an invalid signature');
    assert.deepEqual(
      Object.entries(served['dist-tags']).sort(),
      [['hidden', '1.2.0'], ['latest', '1.2.0'], ['rc', '2.0.0-rc.1'], ['v1', '1.0.0']],
    );
    assertConsistent(served);
    assert.equal((await fetch(`${cs.url}tags-hostile/latest`).then((r) => r.json()) as { version: string }).version, '1.2.0');
    await refused(cs, 'tags-hostile/next', 404, 'ECS_NOT_FOUND', /no served version or dist-tag "next"/);

    // dist-tags that are not an object at all: ignored, and latest is added from the allowed versions.
    upstream.overridePackument('tags-string', { ...docOf('tags-string'), 'dist-tags': 'latest' });
    assert.deepEqual((await packument(cs, 'tags-string'))['dist-tags'], { latest: '1.1.0' });
  });

  it('__proto__, constructor and prototype keys at every level: dropped, nothing polluted, the version still works', async () => {
    const text = JSON.stringify(docOf('proto-hostile'))
      .replace(/^\{/, '{"__proto__":{"polluted":"top"},"constructor":{"prototype":{"polluted":"ctor"}},"prototype":{"polluted":"proto"},')
      .replace('"versions":{', '"versions":{"__proto__":{"name":"proto-hostile","version":"__proto__","dist":{"polluted":"v"}},"constructor":{"polluted":"c"},')
      .replace('"version":"1.0.0",', '"version":"1.0.0","__proto__":{"polluted":"manifest"},"constructor":{"polluted":"manifest"},')
      .replace('"dist":{', '"dist":{"__proto__":{"polluted":"dist","tarball":"http://evil.example/x.tgz"},')
      .replace('"time":{', '"time":{"__proto__":"2020-01-01T00:00:00.000Z","constructor":"2020-01-01T00:00:00.000Z",')
      .replace('"dist-tags":{', '"dist-tags":{"__proto__":"1.0.0",');
    assert.equal((text.match(/__proto__/g) ?? []).length, 7, 'the fixture has every hostile key');
    upstream.overridePackument('proto-hostile', text);
    const res = await fetch(`${cs.url}proto-hostile`);
    assert.equal(res.status, 200);
    const body = await res.text();
    assert.doesNotMatch(body, /__proto__|polluted|"constructor"|"prototype"|evil\.example/);
    const served = JSON.parse(body) as Packument;
    assert.deepEqual(Object.keys(served.versions), ['1.0.0']);
    assertConsistent(served);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
    const tarball = await fetch(`${cs.url}proto-hostile/-/proto-hostile-1.0.0.tgz`);
    assert.equal(tarball.status, 200);
    assert.deepEqual(Buffer.from(await tarball.arrayBuffer()), upstream.tarball('proto-hostile', '1.0.0'));
  });

  it('huge version strings: hidden as malformed, without bloating the answer; a long valid one is served', async () => {
    const doc = docOf('long-versions');
    const good = doc.versions['1.0.0']!;
    const overLimit = `1.0.0-${'a'.repeat(300)}`;
    const enormous = `1.0.0-${'b'.repeat(100_000)}`;
    const longValid = `1.0.0-${'c'.repeat(200)}`;
    for (const version of [overLimit, enormous, longValid]) {
      doc.versions[version] = { ...good, version, dist: { ...good.dist } };
      setIntegrity(doc, version, good.dist['integrity']);
      doc.time[version] = '2024-01-01T00:00:00.000Z';
    }
    doc['dist-tags'] = { latest: '1.0.0', huge: enormous };
    upstream.overridePackument('long-versions', doc);
    const res = await fetch(`${cs.url}long-versions`);
    assert.equal(res.status, 200);
    const body = await res.text();
    assert.ok(body.length < 10_000, `answer of ${body.length} bytes`);
    const served = JSON.parse(body) as Packument;
    assert.deepEqual(Object.keys(served.versions).sort(), ['1.0.0', longValid]);
    assertConsistent(served);
    await refused(cs, `long-versions/-/long-versions-${overLimit}.tgz`, 400, 'ECS_TARBALL_NAME_MISMATCH', /does not belong to long-versions/);
  });

  it('integrity in unknown or broken formats: hidden, tarball refused without a fetch; sha1 plus one sha512 is fine', async () => {
    const doc = docOf('integrity-hostile');
    const real = doc.versions['1.0.9']!.dist['integrity'] as string;
    const b64 = (bytes: number) => randomBytes(bytes).toString('base64');
    const hostile: Array<[string, unknown]> = [
      ['1.0.1', `sha256-${b64(32)}`],
      ['1.0.2', `md5-${b64(16)}`],
      ['1.0.3', 'sha512-!!!not-base64!!!'],
      ['1.0.4', `sha512-${b64(32)}`],
      ['1.0.5', `sha512-${b64(64)} sha512-${b64(64)}`],
      ['1.0.6', 42],
      ['1.0.7', undefined],
      ['1.0.8', `sha512-${'A'.repeat(10_000)}`],
    ];
    for (const [version, integrity] of hostile) setIntegrity(doc, version, integrity);
    const sha1 = `sha1-${createHash('sha1').update(upstream.tarball('integrity-hostile', '1.0.9')!).digest('base64')}`;
    setIntegrity(doc, '1.0.9', `${sha1} ${real}`);
    upstream.overridePackument('integrity-hostile', doc);
    const served = await packument(cs, 'integrity-hostile');
    assert.deepEqual(Object.keys(served.versions).sort(), ['1.0.0', '1.0.9']);
    for (const [version] of hostile) {
      await refused(cs, `integrity-hostile/-/integrity-hostile-${version}.tgz`, 403, 'ECS_VERSION_HIDDEN', /integrity/);
    }
    assert.equal(upstream.requestsTo(/integrity-hostile-1\.0\.[1-8]\.tgz/).length, 0, 'hidden tarballs are never fetched');
    const ok = await fetch(`${cs.url}integrity-hostile/-/integrity-hostile-1.0.9.tgz`);
    assert.equal(ok.status, 200);
    assert.deepEqual(Buffer.from(await ok.arrayBuffer()), upstream.tarball('integrity-hostile', '1.0.9'));
  });

  it('tarball URLs on other origins: hidden and never fetched; in warn mode served in the packument but the tarball is still refused', async () => {
    const doc = docOf('foreign-tarballs');
    const upstreamPort = new URL(upstream.url).port;
    const foreign: Array<[string, string | undefined]> = [
      ['1.0.1', `${elsewhereUrl}foreign-tarballs/-/foreign-tarballs-1.0.1.tgz`],
      ['1.0.2', `http://localhost:${upstreamPort}/foreign-tarballs/-/foreign-tarballs-1.0.2.tgz`],
      ['1.0.3', `https://127.0.0.1:${upstreamPort}/foreign-tarballs/-/foreign-tarballs-1.0.3.tgz`],
      ['1.0.4', 'file:///etc/passwd'],
      ['1.0.5', '/foreign-tarballs/-/foreign-tarballs-1.0.5.tgz'],
      ['1.0.6', undefined],
    ];
    for (const [version, tarball] of foreign) doc.versions[version]!.dist['tarball'] = tarball;
    // Same origin as the upstream, with credentials in the URL: fetched, but the credentials are not sent.
    doc.versions['1.0.7']!.dist['tarball'] = `http://someone:secret@127.0.0.1:${upstreamPort}/foreign-tarballs/-/foreign-tarballs-1.0.7.tgz`;
    upstream.overridePackument('foreign-tarballs', doc);

    const served = await packument(cs, 'foreign-tarballs');
    assert.deepEqual(Object.keys(served.versions).sort(), ['1.0.0', '1.0.7']);
    for (const v of Object.values(served.versions)) assert.equal(v.dist.tarball, `${cs.url}foreign-tarballs/-/foreign-tarballs-${v.version}.tgz`);
    for (const [version] of foreign) {
      await refused(cs, `foreign-tarballs/-/foreign-tarballs-${version}.tgz`, 403, 'ECS_VERSION_HIDDEN', /dist\.tarball is not on a configured upstream|no dist\.tarball/);
    }
    const withCredentials = await fetch(`${cs.url}foreign-tarballs/-/foreign-tarballs-1.0.7.tgz`);
    assert.equal(withCredentials.status, 200);
    const fetched = upstream.requestsTo(/foreign-tarballs-1\.0\.7\.tgz/);
    assert.equal(fetched.length, 1);
    assert.equal(fetched[0]!.headers.authorization, undefined);

    const warned = await packument(warn, 'foreign-tarballs');
    assert.ok(Object.hasOwn(warned.versions, '1.0.1'), 'warn mode serves the version in the packument');
    for (const [version] of foreign) {
      await refused(warn, `foreign-tarballs/-/foreign-tarballs-${version}.tgz`, 403, 'ECS_TARBALL_ORIGIN', /fetches tarballs only from its upstreams/);
    }
    assert.deepEqual(elsewhereRequests, [], 'the other server was never asked');
    assert.equal(upstream.requestsTo(/foreign-tarballs-1\.0\.[1-6]\.tgz/).length, 0);
  });

  it('the process is still healthy and logged no internal error', async () => {
    assert.equal((await fetch(`${cs.url}healthz`)).status, 200);
    for (const server of [cs, warn]) {
      assert.deepEqual(server.logs.filter((l) => l['code'] === 'ECS_INTERNAL' || l['msg'] === 'unhandled error'), []);
    }
  });
});
