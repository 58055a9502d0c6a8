/**
 * Bug: when a gzip-encoded packument was refused (inflated past packuments.maxSize, or not valid
 * gzip), only the inflating stream was destroyed. The upstream response under it stayed paused
 * and unread, so undici never released its connection (no body timeout fires on a paused body).
 * Every such packument took one connection of the upstream pool for good; with `connections`
 * of them, every later packument request hung.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { startCountersign, type Running } from '../helpers/countersign.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { createRegistryKey } from '../helpers/registry-key.js';

describe('regression: a refused gzip packument releases its upstream connection', () => {
  let upstream: FakeRegistry;
  let cs: Running;

  before(async () => {
    upstream = await FakeRegistry.start({ key: createRegistryKey() });
    await upstream.publish([{ name: 'one', version: '1.0.0' }, { name: 'two', version: '1.0.0' }]);
    upstream.fault(/^\/bomb$/, { kind: 'huge-body', bytes: 256 * 1024 * 1024, gzip: true });
    // Valid gzip header and start, then bytes that cannot be inflated.
    const broken = Buffer.concat([gzipSync(Buffer.from('{"name":"broken"'.repeat(100))).subarray(0, 40), Buffer.alloc(200_000, 0xff)]);
    upstream.fault(/^\/broken$/, { kind: 'body', body: broken, contentType: 'application/json', contentEncoding: 'gzip' });
    // One connection: a leaked one blocks everything after it.
    cs = await startCountersign({
      yaml: `
server: { dataDir: "\${DATA_DIR}", shutdownGrace: 1s }
upstreams:
  npmjs: { url: ${upstream.url}, keys: upstream, connections: 1, timeouts: { connect: 2s, headers: 5s, bodyIdle: 5s } }
packuments: { maxSize: 4MB }
rules:
  - match: ["**"]
`,
    });
  });

  after(async () => {
    await cs.close();
    await upstream.close();
  });

  const cases = [
    { path: 'bomb', code: 'ECS_UPSTREAM_TOO_LARGE', next: 'one' },
    { path: 'broken', code: 'ECS_UPSTREAM_INVALID_JSON', next: 'two' },
  ];
  for (const { path, code, next } of cases) {
    it(`${path}: 502 ${code}, and the next packument does not wait for the connection`, async () => {
      const refused = await fetch(cs.url + path);
      assert.equal(refused.status, 502);
      assert.equal(((await refused.json()) as { code: string }).code, code);
      const started = performance.now();
      const res = await fetch(cs.url + next, { signal: AbortSignal.timeout(3_000) });
      assert.equal(res.status, 200, `${next} after ${path}`);
      assert.ok(performance.now() - started < 3_000);
    });
  }
});
