import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { sendVariant } from '../../../src/server/respond.js';
import { Variant } from '../../../src/server/variant.js';

/** A JSON document of about `bytes` bytes that compresses like a packument. */
function document(bytes: number): Buffer {
  const versions: Record<string, unknown> = {};
  for (let i = 0, size = 0; size < bytes; i++) {
    const manifest = { name: 'demo', version: `1.${i}.0`, description: `release ${i} of demo`, dist: { integrity: `sha512-${Buffer.alloc(64, i % 251).toString('base64')}` } };
    versions[manifest.version] = manifest;
    size += JSON.stringify(manifest).length + manifest.version.length + 4;
  }
  const body = Buffer.from(JSON.stringify({ name: 'demo', versions }));
  assert.ok(body.length >= bytes);
  return body;
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await sleep(10);
  assert.ok(condition(), 'timed out');
}

describe('Variant gzip copies', () => {
  it('gzips a small form once, at the default level, under its -gz ETag', async () => {
    const variant = new Variant(document(20_000), 'small', 'application/json');
    const copy = await variant.gzip();
    assert.equal(copy.etag, '"small-gz"');
    assert.deepEqual(gunzipSync(copy.body), variant.identity);
    assert.equal(variant.servableGzip(), copy);
    assert.equal(variant.servableGzip(), copy, 'a default-level copy is never made again');
  });

  it('makes the first copy of a large form fast, and the default-level one when it is served again', async () => {
    const variant = new Variant(document(1_500_000), 'large', 'application/json');
    assert.equal(variant.gzipEtag, '"large-gzf"', 'the copy to come is the fast one');
    const fast = await variant.gzip();
    assert.equal(fast.etag, '"large-gzf"');
    assert.deepEqual(gunzipSync(fast.body), variant.identity);
    await sleep(50);
    assert.equal(variant.gzipEtag, '"large-gzf"', 'served once: nothing else is started');
    assert.equal(variant.servableGzip(), fast, 'served again: still the fast copy, while the other is made');
    await until(() => variant.gzipEtag === '"large-gz"');
    const best = variant.servableGzip()!;
    assert.equal(best.etag, '"large-gz"');
    assert.deepEqual(gunzipSync(best.body), variant.identity);
    assert.ok(best.body.length < fast.body.length, `default level ${best.body.length} B, fast ${fast.body.length} B`);
    assert.ok(variant.size < variant.identity.length + fast.body.length, 'only the kept copy counts');
  });

  it('counts every ETag the form has had as current', () => {
    const variant = new Variant(document(2_000), 'tag', 'application/json');
    for (const etag of ['"tag"', '"tag-gz"', '"tag-gzf"']) assert.ok(variant.isCurrentEtag(etag), etag);
    assert.ok(!variant.isCurrentEtag('"other-gz"'));
  });
});

describe('sendVariant', () => {
  const variant = new Variant(document(1_200_000), 'big', 'application/json');
  let server: Server;
  let url: string;
  before(async () => {
    server = createServer((req, res) => void sendVariant(req, res, variant, { maxAgeSeconds: 60 }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function get(headers: Record<string, string>): Promise<{ status: number; etag: string; encoding: string | undefined; body: Buffer }> {
    return new Promise((resolve, reject) => {
      request(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () => resolve({ status: res.statusCode!, etag: String(res.headers.etag), encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
      })
        .once('error', reject)
        .end();
    });
  }

  it('names the bytes it sends: the fast copy first, the default-level one once made, 304 to either', async () => {
    const first = await get({ 'accept-encoding': 'gzip' });
    assert.equal(first.status, 200);
    assert.equal(first.encoding, 'gzip');
    assert.equal(first.etag, '"big-gzf"');
    assert.deepEqual(gunzipSync(first.body), variant.identity);
    await sleep(50);
    assert.equal(variant.gzipEtag, '"big-gzf"', 'served once: nothing else is started');
    const second = await get({ 'accept-encoding': 'gzip' });
    assert.equal(second.etag, '"big-gzf"');
    assert.deepEqual(second.body, first.body);
    await until(() => variant.gzipEtag === '"big-gz"');
    const third = await get({ 'accept-encoding': 'gzip' });
    assert.equal(third.etag, '"big-gz"');
    assert.deepEqual(gunzipSync(third.body), variant.identity);

    const revalidated = await get({ 'accept-encoding': 'gzip', 'if-none-match': first.etag });
    assert.equal(revalidated.status, 304, 'the fast copy decodes to the same content');
    assert.equal(revalidated.etag, '"big-gz"');
    assert.equal((await get({ 'accept-encoding': 'gzip', 'if-none-match': '"big"' })).status, 304);
    assert.equal((await get({ 'accept-encoding': 'gzip', 'if-none-match': '"older-gz"' })).status, 200);
  });

  it('serves identity under the identity ETag, which no gzip ETag revalidates', async () => {
    const plain = await get({ 'accept-encoding': 'identity' });
    assert.equal(plain.status, 200);
    assert.equal(plain.encoding, undefined);
    assert.equal(plain.etag, '"big"');
    assert.deepEqual(plain.body, variant.identity);
    assert.equal((await get({ 'accept-encoding': 'identity', 'if-none-match': '"big-gz"' })).status, 200);
    assert.equal((await get({ 'accept-encoding': 'identity', 'if-none-match': '"big"' })).status, 304);
  });
});
