/**
 * Must hold 8 (tarball cache part): when the disk fills up while a verified tarball is being
 * cached, the client still gets the tarball, complete and verified; the cache keeps nothing
 * partial (no file under a digest, nothing left in its scratch dir); and once there is room
 * again, caching works and a restart finds only whole, correct files. The full disk is ENOSPC
 * injected into the tarball store's write streams (fs-spy.ts), the product code unchanged.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCountersign, verifyConfig, type Running } from '../helpers/countersign.js';
import { cachedSoon, cachedTarballs, scratchFiles } from '../helpers/disk.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { diskFullUnder } from '../helpers/fs-spy.js';
import { createRegistryKey } from '../helpers/registry-key.js';

const sha512 = (buf: Buffer) => createHash('sha512').update(buf).digest('hex');

/** Waits until the store has dealt with the write: its scratch dir is empty again. */
async function settled(dataDir: string): Promise<void> {
  for (let i = 0; i < 200 && scratchFiles(dataDir).length > 0; i++) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 30));
}

describe('disk full while caching a tarball', () => {
  let upstream: FakeRegistry;
  let dataDir: string;
  let cs: Running;
  let streaming: Running;
  let streamingDir: string;

  before(async () => {
    upstream = await FakeRegistry.start({ key: createRegistryKey() });
    // A big, incompressible file so that the tarball arrives in many chunks.
    const big = Array.from({ length: 4000 }, (_, i) => createHash('sha256').update(String(i)).digest('base64')).join('\n');
    await upstream.publish([
      { name: 'small', version: '1.0.0' },
      { name: 'small', version: '1.0.1' },
      { name: 'small', version: '1.0.2' },
      { name: 'big', version: '1.0.0', files: { 'index.js': '', 'data.txt': big } },
      { name: 'big', version: '1.0.1', files: { 'index.js': '', 'data.txt': `${big}\n` } },
    ]);
    dataDir = mkdtempSync(join(tmpdir(), 'cs-diskfull-'));
    streamingDir = mkdtempSync(join(tmpdir(), 'cs-diskfull-'));
    cs = await startCountersign({ yaml: verifyConfig(upstream.url), dataDir });
    // Everything over 100 bytes streams with the tail held back.
    streaming = await startCountersign({ yaml: `${verifyConfig(upstream.url)}\ntarballs:\n  verifyBeforeSendBelow: 100B\n`, dataDir: streamingDir });
  });

  after(async () => {
    await cs.close();
    await streaming.close();
    await upstream.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(streamingDir, { recursive: true, force: true });
  });

  async function fullDiskDownload(server: Running, dir: string, path: string, allowBytes: number): Promise<Buffer> {
    const full = diskFullUnder(join(dir, 'tarballs'), allowBytes);
    try {
      const res = await fetch(server.url + path);
      assert.equal(res.status, 200);
      const body = Buffer.from(await res.arrayBuffer());
      await settled(dir);
      assert.ok(full.failures() > 0, 'the disk really was full for this download');
      return body;
    } finally {
      full.restore();
    }
  }

  const cases = [
    { what: 'a small tarball (held until verified), the disk filling mid-file', server: () => cs, dir: () => dataDir, name: 'small', version: '1.0.0', allow: 100 },
    { what: 'a small tarball, no room for a single byte', server: () => cs, dir: () => dataDir, name: 'small', version: '1.0.1', allow: 0 },
    { what: 'a large tarball streamed with its tail held back', server: () => streaming, dir: () => streamingDir, name: 'big', version: '1.0.0', allow: 20_000 },
  ];
  for (const c of cases) {
    it(`${c.what}: served whole and verified, nothing cached, no partial file left`, async () => {
      const expected = upstream.tarball(c.name, c.version)!;
      const body = await fullDiskDownload(c.server(), c.dir(), `${c.name}/-/${c.name}-${c.version}.tgz`, c.allow);
      assert.equal(body.length, expected.length);
      assert.ok(body.equals(expected), 'the bytes are the published ones');
      assert.ok(!cachedTarballs(c.dir()).includes(sha512(expected)), 'not cached under its digest');
      assert.deepEqual(scratchFiles(c.dir()), [], 'no partial file in the scratch dir');
      assert.ok(c.server().logs.some((l) => l['msg'] === 'verified tarball served but not cached (disk write failed)' && l['name'] === c.name));
    });
  }

  it('concurrent downloads while the disk is full all succeed', async () => {
    const full = diskFullUnder(join(dataDir, 'tarballs'), 50);
    try {
      const answers = await Promise.all(Array.from({ length: 8 }, () => fetch(`${cs.url}small/-/small-1.0.2.tgz`).then(async (r) => ({ status: r.status, body: Buffer.from(await r.arrayBuffer()) }))));
      for (const a of answers) {
        assert.equal(a.status, 200);
        assert.ok(a.body.equals(upstream.tarball('small', '1.0.2')!));
      }
      await settled(dataDir);
    } finally {
      full.restore();
    }
    assert.deepEqual(scratchFiles(dataDir), []);
  });

  it('with room again, the next tarball is cached, and a restart finds only whole and correct files', async () => {
    const res = await fetch(`${streaming.url}big/-/big-1.0.1.tgz`);
    assert.equal(res.status, 200);
    const body = Buffer.from(await res.arrayBuffer());
    assert.ok(await cachedSoon(streamingDir, sha512(body)));
    await streaming.close();
    streaming = await startCountersign({ yaml: `${verifyConfig(upstream.url)}\ntarballs:\n  verifyBeforeSendBelow: 100B\n`, dataDir: streamingDir });
    for (const hex of cachedTarballs(streamingDir)) {
      const file = readFileSync(join(streamingDir, 'tarballs', 'sha512', hex.slice(0, 2), hex.slice(2, 4), hex));
      assert.equal(sha512(file), hex, 'every cached file hashes to its name');
    }
    assert.deepEqual(cachedTarballs(streamingDir), [sha512(body)]);
    const asked = upstream.requestsTo(/big-1\.0\.1\.tgz/).length;
    const again = await fetch(`${streaming.url}big/-/big-1.0.1.tgz`);
    assert.ok(Buffer.from(await again.arrayBuffer()).equals(body));
    assert.equal(upstream.requestsTo(/big-1\.0\.1\.tgz/).length, asked, 'served from the disk cache after the restart');
  });
});
