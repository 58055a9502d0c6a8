/**
 * Must hold 1: what clients get when the upstream refuses connections, is slow, resets, answers
 * 5xx or sends something that is not a packument. Faults come from the fake upstream; the clock
 * given to countersign moves to make cached packuments due for revalidation.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { startCountersign, type Running } from '../helpers/countersign.js';
import { cachedSoon, cachedTarballs, scratchFiles } from '../helpers/disk.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { createRegistryKey } from '../helpers/registry-key.js';

const MINUTE = 60_000;

function config(upstreamUrl: string, extra = ''): string {
  return `
server: { dataDir: "\${DATA_DIR}", shutdownGrace: 1s }
upstreams:
  npmjs: { url: ${upstreamUrl}, keys: upstream, timeouts: { connect: 1s, headers: 1s, bodyIdle: 1s } }
packuments: { maxAge: 5m, staleIfError: 1h }
${extra}
rules:
  - match: ["**"]
    require: { registrySignature: required }
`;
}

interface ErrorBody {
  error: string;
  code: string;
}

async function errorOf(res: Response): Promise<ErrorBody> {
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  return (await res.json()) as ErrorBody;
}

function sha512Hex(buf: Buffer): string {
  return createHash('sha512').update(buf).digest('hex');
}

/** A GET that resolves with what arrived, also when the server cuts the body. */
function download(url: string): Promise<{ status: number; body: Buffer; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      const chunks: Buffer[] = [];
      let ended = false;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (ended = true));
      res.on('error', () => undefined);
      res.on('close', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), complete: ended && res.complete }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('upstream refuses connections', () => {
  let upstream: FakeRegistry;
  let cs: Running;
  let clock = Date.now();

  before(async () => {
    upstream = await FakeRegistry.start({ key: createRegistryKey() });
    await upstream.publish([
      { name: 'cached', version: '1.0.0' },
      { name: 'cached', version: '1.1.0' },
    ]);
    cs = await startCountersign({ yaml: config(upstream.url), now: () => clock });
    assert.equal((await fetch(`${cs.url}cached`)).status, 200);
    const tarball = await fetch(`${cs.url}cached/-/cached-1.0.0.tgz`);
    assert.equal(tarball.status, 200);
    assert.ok(await cachedSoon(cs.dataDir, sha512Hex(Buffer.from(await tarball.arrayBuffer()))));
    await upstream.close(); // its port now refuses connections
    clock += 10 * MINUTE; // past packuments.maxAge: every packument is due for revalidation
  });

  after(() => cs.close());

  it('serves a cached packument stale, saying so in Warning and X-Countersign-Stale', async () => {
    const res = await fetch(`${cs.url}cached`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('warning'), '110 countersign "Response is Stale"');
    assert.equal(res.headers.get('x-countersign-stale'), 'ECS_UPSTREAM_UNREACHABLE');
    const doc = (await res.json()) as { versions: Record<string, unknown> };
    assert.deepEqual(Object.keys(doc.versions), ['1.0.0', '1.1.0']);
  });

  it('serves the abbreviated form and version manifests stale too', async () => {
    const corgi = await fetch(`${cs.url}cached`, { headers: { accept: 'application/vnd.npm.install-v1+json' } });
    assert.equal(corgi.status, 200);
    assert.equal(corgi.headers.get('x-countersign-stale'), 'ECS_UPSTREAM_UNREACHABLE');
    const manifest = await fetch(`${cs.url}cached/1.1.0`);
    assert.equal(manifest.status, 200);
    assert.equal(manifest.headers.get('x-countersign-stale'), 'ECS_UPSTREAM_UNREACHABLE');
    assert.equal(((await manifest.json()) as { version: string }).version, '1.1.0');
  });

  it('answers 503 ECS_UPSTREAM_UNREACHABLE for a package it never cached, naming the upstream', async () => {
    const res = await fetch(`${cs.url}never-cached`);
    assert.equal(res.status, 503);
    const body = await errorOf(res);
    assert.equal(body.code, 'ECS_UPSTREAM_UNREACHABLE');
    assert.match(body.error, /upstream npmjs is unreachable \(ECONNREFUSED\) for the packument of never-cached/);
  });

  it('serves a cached tarball without the upstream; an uncached one is 503', async () => {
    assert.equal((await fetch(`${cs.url}cached/-/cached-1.0.0.tgz`)).status, 200);
    const res = await fetch(`${cs.url}cached/-/cached-1.1.0.tgz`);
    assert.equal(res.status, 503);
    assert.equal((await errorOf(res)).code, 'ECS_UPSTREAM_UNREACHABLE');
  });

  it('stops serving stale after packuments.staleIfError: then 503', async () => {
    clock += 2 * 60 * MINUTE;
    const res = await fetch(`${cs.url}cached`);
    assert.equal(res.status, 503);
    assert.equal((await errorOf(res)).code, 'ECS_UPSTREAM_UNREACHABLE');
  });
});

describe('upstream too slow (timeouts: connect 1s, headers 1s, bodyIdle 1s)', () => {
  let upstream: FakeRegistry;
  let cs: Running;
  let clock = Date.now();

  before(async () => {
    upstream = await FakeRegistry.start({ key: createRegistryKey() });
    await upstream.publish([
      { name: 'steady', version: '1.0.0' },
      { name: 'slow-tarballs', version: '1.0.0' },
      { name: 'slow-tarballs', version: '1.0.1' },
    ]);
    upstream.fault(/^\/no-headers$/, { kind: 'hang-headers' });
    upstream.fault(/^\/stalls-mid-body$/, { kind: 'hang-body' });
    upstream.fault(/slow-tarballs-1\.0\.0\.tgz$/, { kind: 'hang-headers' });
    upstream.fault(/slow-tarballs-1\.0\.1\.tgz$/, { kind: 'hang-body' });
    cs = await startCountersign({ yaml: config(upstream.url), now: () => clock });
  });

  after(async () => {
    await cs.close();
    await upstream.close();
  });

  async function timed(path: string): Promise<{ res: Response; seconds: number }> {
    const started = performance.now();
    const res = await fetch(cs.url + path);
    return { res, seconds: (performance.now() - started) / 1000 };
  }

  it('no status line in time: 504 ECS_UPSTREAM_TIMEOUT after the headers timeout', async () => {
    const { res, seconds } = await timed('no-headers');
    assert.equal(res.status, 504);
    const body = await errorOf(res);
    assert.equal(body.code, 'ECS_UPSTREAM_TIMEOUT');
    assert.match(body.error, /upstream npmjs did not answer in time for the packument of no-headers/);
    assert.ok(seconds >= 0.9 && seconds < 5, `took ${seconds} s`);
  });

  it('body stalls: 504 ECS_UPSTREAM_TIMEOUT after the body idle timeout', async () => {
    const { res, seconds } = await timed('stalls-mid-body');
    assert.equal(res.status, 504);
    const body = await errorOf(res);
    assert.equal(body.code, 'ECS_UPSTREAM_TIMEOUT');
    assert.match(body.error, /stopped sending the packument of stalls-mid-body \(body idle timeout\)/);
    assert.ok(seconds >= 0.9 && seconds < 5, `took ${seconds} s`);
  });

  it('a cached packument is served stale when its revalidation times out', async () => {
    assert.equal((await fetch(`${cs.url}steady`)).status, 200);
    clock += 10 * MINUTE;
    upstream.fault(/^\/steady$/, { kind: 'hang-headers' }, 1);
    const { res } = await timed('steady');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-countersign-stale'), 'ECS_UPSTREAM_TIMEOUT');
  });

  it('tarballs: 504 when the headers or the body stall, and nothing is cached', async () => {
    for (const version of ['1.0.0', '1.0.1']) {
      const { res, seconds } = await timed(`slow-tarballs/-/slow-tarballs-${version}.tgz`);
      assert.equal(res.status, 504, version);
      assert.equal((await errorOf(res)).code, 'ECS_UPSTREAM_TIMEOUT');
      assert.ok(seconds >= 0.9 && seconds < 5, `${version} took ${seconds} s`);
    }
    assert.deepEqual(cachedTarballs(cs.dataDir), []);
    assert.deepEqual(scratchFiles(cs.dataDir), []);
  });
});

describe('upstream resets, 5xx and invalid bodies', () => {
  let upstream: FakeRegistry;
  let held: Running;
  let streaming: Running;
  let clock = Date.now();

  before(async () => {
    upstream = await FakeRegistry.start({ key: createRegistryKey() });
    await upstream.publish([
      { name: 'flaky', version: '1.0.0' },
      { name: 'flaky', version: '1.0.1' },
      { name: 'flaky', version: '1.0.2' },
    ]);
    upstream.fault(/^\/five-hundred$/, { kind: 'status', status: 500 });
    upstream.fault(/^\/not-json$/, { kind: 'body', body: '{"name":"not-json","versions":{' });
    upstream.fault(/^\/reset-early$/, { kind: 'reset' });
    // A gzip header, then bytes that do not inflate.
    upstream.fault(/^\/corrupt-gzip$/, { kind: 'body', body: Buffer.concat([gzipSync('{"name":"corrupt-gzip"}').subarray(0, 12), Buffer.alloc(64, 0xff)]), contentEncoding: 'gzip' });
    held = await startCountersign({ yaml: config(upstream.url), now: () => clock });
    // Every test tarball is over 100 bytes: this instance streams them with the tail held back.
    streaming = await startCountersign({ yaml: config(upstream.url, 'tarballs: { verifyBeforeSendBelow: 100B }'), now: () => clock });
  });

  after(async () => {
    await held.close();
    await streaming.close();
    await upstream.close();
  });

  it('reset before answering: 503 ECS_UPSTREAM_UNREACHABLE', async () => {
    const res = await fetch(`${held.url}reset-early`);
    assert.equal(res.status, 503);
    const body = await errorOf(res);
    assert.equal(body.code, 'ECS_UPSTREAM_UNREACHABLE');
    assert.match(body.error, /closed the connection before answering/);
  });

  it('reset mid-tarball: 502 ECS_UPSTREAM_RESET, nothing cached, and a retry verifies and caches', async () => {
    upstream.fault(/flaky-1\.0\.0\.tgz$/, { kind: 'reset-body' }, 1);
    const res = await fetch(`${held.url}flaky/-/flaky-1.0.0.tgz`);
    assert.equal(res.status, 502);
    const body = await errorOf(res);
    assert.equal(body.code, 'ECS_UPSTREAM_RESET');
    assert.match(body.error, /closed the connection while sending the tarball of flaky@1\.0\.0/);
    assert.deepEqual(cachedTarballs(held.dataDir), []);
    assert.deepEqual(scratchFiles(held.dataDir), []);
    const retry = await fetch(`${held.url}flaky/-/flaky-1.0.0.tgz`);
    assert.equal(retry.status, 200);
    const bytes = Buffer.from(await retry.arrayBuffer());
    assert.deepEqual(bytes, upstream.tarball('flaky', '1.0.0'));
    assert.ok(await cachedSoon(held.dataDir, sha512Hex(bytes)));
  });

  it('reset mid-tarball while streaming: the client never gets a complete body, nothing is cached', async () => {
    upstream.fault(/flaky-1\.0\.1\.tgz$/, { kind: 'reset-body' }, 1);
    const res = await download(`${streaming.url}flaky/-/flaky-1.0.1.tgz`);
    assert.equal(res.complete, false, `status ${res.status}, ${res.body.length} bytes`);
    assert.deepEqual(cachedTarballs(streaming.dataDir), []);
    assert.deepEqual(scratchFiles(streaming.dataDir), []);
  });

  it('5xx: 502 ECS_UPSTREAM_STATUS for an uncached packument or a tarball, stale for a cached one', async () => {
    const res = await fetch(`${held.url}five-hundred`);
    assert.equal(res.status, 502);
    const body = await errorOf(res);
    assert.equal(body.code, 'ECS_UPSTREAM_STATUS');
    assert.match(body.error, /upstream npmjs answered 500 for the packument of five-hundred/);

    upstream.fault(/flaky-1\.0\.2\.tgz$/, { kind: 'status', status: 503 }, 1);
    const tarball = await fetch(`${held.url}flaky/-/flaky-1.0.2.tgz`);
    assert.equal(tarball.status, 502);
    assert.equal((await errorOf(tarball)).code, 'ECS_UPSTREAM_STATUS');

    clock += 10 * MINUTE;
    upstream.fault(/^\/flaky$/, { kind: 'status', status: 503 }, 1);
    const stale = await fetch(`${held.url}flaky`);
    assert.equal(stale.status, 200);
    assert.equal(stale.headers.get('x-countersign-stale'), 'ECS_UPSTREAM_STATUS');
  });

  it('invalid JSON: 502 ECS_UPSTREAM_INVALID_JSON for an uncached packument, stale for a cached one', async () => {
    const res = await fetch(`${held.url}not-json`);
    assert.equal(res.status, 502);
    const body = await errorOf(res);
    assert.equal(body.code, 'ECS_UPSTREAM_INVALID_JSON');
    assert.match(body.error, /sent a packument for not-json that is not valid JSON/);

    clock += 10 * MINUTE;
    upstream.fault(/^\/flaky$/, { kind: 'body', body: '<html>maintenance</html>', contentType: 'text/html' }, 1);
    const stale = await fetch(`${held.url}flaky`);
    assert.equal(stale.status, 200);
    assert.equal(stale.headers.get('x-countersign-stale'), 'ECS_UPSTREAM_INVALID_JSON');
  });

  it('a body that does not inflate: 502 ECS_UPSTREAM_INVALID_JSON', async () => {
    const res = await fetch(`${held.url}corrupt-gzip`);
    assert.equal(res.status, 502);
    const body = await errorOf(res);
    assert.equal(body.code, 'ECS_UPSTREAM_INVALID_JSON');
    assert.match(body.error, /does not inflate/);
  });
});
