import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCountersign, verifyConfig, type Running } from '../helpers/countersign.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { createRegistryKey } from '../helpers/registry-key.js';

function sha512(buf: Buffer): string {
  return createHash('sha512').update(buf).digest('hex');
}

/** The disk cache is written after the response is sent: wait for it. */
async function cachedSoon(dataDir: string, hex: string): Promise<string[]> {
  for (let i = 0; i < 100 && !cachedFiles(dataDir).includes(hex); i++) await new Promise((r) => setTimeout(r, 10));
  return cachedFiles(dataDir);
}

function cachedFiles(dataDir: string): string[] {
  const root = join(dataDir, 'tarballs', 'sha512');
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
}

/** Reads a response to the end or to the point the server cut it, never throwing. */
function download(url: string): Promise<{ status: number; body: Buffer; complete: boolean; declared: number | undefined }> {
  return new Promise((resolve, reject) => {
    let responded = false;
    const req = request(url, (res) => {
      responded = true;
      const chunks: Buffer[] = [];
      let complete = false;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (complete = true));
      res.on('error', () => undefined);
      res.on('close', () => {
        const declared = res.headers['content-length'] === undefined ? undefined : Number(res.headers['content-length']);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), complete: complete && res.complete, declared });
      });
    });
    req.on('error', (err) => (responded ? undefined : reject(err)));
    req.end();
  });
}

describe('verified tarballs', () => {
  let upstream: FakeRegistry;
  let cs: Running;
  let streaming: Running;

  before(async () => {
    upstream = await FakeRegistry.start({ key: createRegistryKey() });
    await upstream.publish([
      { name: 'delta', version: '1.0.0' },
      { name: 'delta', version: '1.0.1', tamper: true },
      { name: 'delta', version: '2.0.0', sign: 'invalid' },
      { name: 'epsilon', version: '1.0.0', tamper: true },
      { name: 'epsilon', version: '1.0.1' },
      { name: '@scope/zeta', version: '1.0.0' },
    ]);
    cs = await startCountersign({ yaml: verifyConfig(upstream.url) });
    // Every tarball is larger than 100 bytes, so this instance streams with the tail held back.
    streaming = await startCountersign({ yaml: `${verifyConfig(upstream.url)}\ntarballs:\n  verifyBeforeSendBelow: 100B\n` });
  });

  after(async () => {
    await cs.close();
    await streaming.close();
    await upstream.close();
  });

  const publishedHex = (name: string, version: string): string => {
    const doc = upstream.packument(name) as { versions: Record<string, { dist: { integrity: string } }> };
    return Buffer.from(doc.versions[version]!.dist.integrity.slice('sha512-'.length), 'base64').toString('hex');
  };

  it('serves a verified tarball and caches it on disk by content', async () => {
    const res = await fetch(`${cs.url}delta/-/delta-1.0.0.tgz`);
    assert.equal(res.status, 200);
    const body = Buffer.from(await res.arrayBuffer());
    assert.deepEqual(body, upstream.tarball('delta', '1.0.0'));
    assert.deepEqual(await cachedSoon(cs.dataDir, sha512(body)), [sha512(body)]);
  });

  it('serves a cached tarball without asking the upstream', async () => {
    const before = upstream.requestsTo(/delta-1\.0\.0\.tgz/).length;
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${cs.url}delta/-/delta-1.0.0.tgz`)).status, 200);
    assert.equal(upstream.requestsTo(/delta-1\.0\.0\.tgz/).length, before);
  });

  it('serves scoped tarballs under both path forms', async () => {
    for (const path of ['@scope/zeta/-/zeta-1.0.0.tgz', '@scope%2fzeta/-/zeta-1.0.0.tgz']) {
      const res = await fetch(cs.url + path);
      assert.equal(res.status, 200, path);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), upstream.tarball('@scope/zeta', '1.0.0'));
    }
  });

  it('refuses a hidden version’s tarball with 403 and the reason', async () => {
    const res = await fetch(`${cs.url}delta/-/delta-2.0.0.tgz`);
    assert.equal(res.status, 403);
    const body = (await res.json()) as { error: string; code: string };
    assert.equal(body.code, 'ECS_VERSION_HIDDEN');
    assert.match(body.error, /invalid registry signature/);
    assert.equal(upstream.requestsTo(/delta-2\.0\.0\.tgz/).length, 0, 'never fetched');
  });

  it('refuses a tampered small tarball with 502, caches nothing and counts it', async () => {
    const res = await fetch(`${cs.url}delta/-/delta-1.0.1.tgz`);
    assert.equal(res.status, 502);
    const body = (await res.json()) as { error: string; code: string };
    assert.equal(body.code, 'ECS_INTEGRITY_MISMATCH');
    assert.match(body.error, /does not match its published integrity/);
    assert.ok(!cachedFiles(cs.dataDir).includes(publishedHex('delta', '1.0.1')), 'nothing is cached under the published digest');
    const metrics = await (await fetch(`${cs.url}metrics`)).text();
    assert.match(metrics, /countersign_tarballs_blocked_total\{reason="integrity"\} 1/);
  });

  it('hides a version once its tarball failed verification', async () => {
    const doc = (await (await fetch(`${cs.url}delta`)).json()) as { versions: Record<string, unknown> };
    assert.equal(doc.versions['1.0.1'], undefined);
    const again = await fetch(`${cs.url}delta/-/delta-1.0.1.tgz`);
    assert.equal(again.status, 403);
    assert.match(((await again.json()) as { error: string }).error, /failed integrity verification/);
  });

  it('streams a large tarball with its tail held back: a mismatch never completes the body', async () => {
    const tampered = upstream.tarball('epsilon', '1.0.0')!;
    const res = await download(`${streaming.url}epsilon/-/epsilon-1.0.0.tgz`);
    assert.equal(res.status, 200, 'headers were already sent when the mismatch showed');
    assert.equal(res.complete, false);
    assert.ok(res.body.length < tampered.length, `received ${res.body.length} of ${tampered.length} bytes`);
    assert.ok(!cachedFiles(streaming.dataDir).includes(publishedHex('epsilon', '1.0.0')));
    const metrics = await (await fetch(`${streaming.url}metrics`)).text();
    assert.match(metrics, /countersign_tarballs_blocked_total\{reason="integrity"\} 1/);
  });

  it('streams a large good tarball whole', async () => {
    const res = await download(`${streaming.url}epsilon/-/epsilon-1.0.1.tgz`);
    assert.equal(res.status, 200);
    assert.equal(res.complete, true);
    assert.deepEqual(res.body, upstream.tarball('epsilon', '1.0.1'));
    assert.ok((await cachedSoon(streaming.dataDir, sha512(res.body))).includes(sha512(res.body)));
  });

  it('answers 400 for a tarball file that does not belong to the package', async () => {
    const res = await fetch(`${cs.url}delta/-/epsilon-1.0.0.tgz`);
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { code: string }).code, 'ECS_TARBALL_NAME_MISMATCH');
  });
});
