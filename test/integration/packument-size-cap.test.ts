import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawnCountersign } from '../helpers/child-countersign.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { createRegistryKey } from '../helpers/registry-key.js';

const CAP = 8_000_000; // packuments.maxSize: 8MB
const OFFERED = 512 * 1024 * 1024; // what the upstream is willing to send
/**
 * Socket, zlib and allocator slack on top of the cap (measured: 12–40 MiB for an 8 MB cap, about
 * 10 MiB for the default 64 MB). Reading what the upstream offers would take 512 MiB.
 */
const SLACK = 48 * 1024 * 1024;

function config(upstreamUrl: string): string {
  return `
server: { dataDir: "\${DATA_DIR}", shutdownGrace: 1s }
log: { level: error }
upstreams:
  npmjs: { url: ${upstreamUrl}, keys: upstream, timeouts: { connect: 2s, headers: 5s, bodyIdle: 5s } }
  internal: { url: ${upstreamUrl}, token: internal-token }
packuments: { maxSize: ${CAP}B }
rules:
  - { match: ["@acme/*"], mode: fast, upstream: internal }
  - { match: ["**"], upstream: npmjs }
`;
}

/**
 * packuments.maxSize: a packument over the cap is refused with 502 ECS_UPSTREAM_TOO_LARGE, and
 * countersign never holds much more than the cap. Each case runs countersign in a fresh process,
 * so that its peak resident set (which only ever rises) measures that case alone.
 */
describe('packument size cap', () => {
  let upstream: FakeRegistry;

  before(async () => {
    upstream = await FakeRegistry.start({ key: createRegistryKey() });
    await upstream.publish([{ name: 'small', version: '1.0.0' }]);
    upstream.fault(/^\/huge-chunked$/, { kind: 'huge-body', bytes: OFFERED });
    upstream.fault(/^\/huge-declared$/, { kind: 'huge-body', bytes: OFFERED, declareLength: true });
    upstream.fault(/^\/gzip-bomb$/, { kind: 'huge-body', bytes: OFFERED, gzip: true });
    upstream.fault(/^\/@acme%2fhuge$/, { kind: 'huge-body', bytes: OFFERED });
  });

  after(() => upstream.close());

  const cases = [
    { path: 'huge-chunked', what: 'a chunked body with no length' },
    { path: 'huge-declared', what: 'a Content-Length over the cap (refused before reading)' },
    { path: 'gzip-bomb', what: 'a gzip bomb (the cap applies to the inflated bytes)' },
    { path: '@acme%2fhuge', what: 'a fast scope packument (rewritten as text, same cap)' },
  ];
  for (const { path, what } of cases) {
    it(`${what}: 502 ECS_UPSTREAM_TOO_LARGE, peak memory within the cap plus slack`, async () => {
      const cs = await spawnCountersign(config(upstream.url));
      try {
        // Warm-up: the baseline includes the code paths of an ordinary request.
        assert.equal((await fetch(`${cs.url}small`)).status, 200);
        const before = await cs.memory(true);
        const res = await fetch(cs.url + path);
        assert.equal(res.status, 502);
        const body = (await res.json()) as { code: string; error: string };
        assert.equal(body.code, 'ECS_UPSTREAM_TOO_LARGE');
        assert.match(body.error, /8000000-byte cap \(packuments\.maxSize\)/);
        const after = await cs.memory();
        const growth = after.maxRss - before.maxRss;
        assert.ok(growth < CAP + SLACK, `peak RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB for an ${CAP / 1e6} MB cap`);
        // Still serving, and nothing went wrong inside.
        assert.equal((await fetch(`${cs.url}small`)).status, 200);
        assert.deepEqual(cs.faults, []);
      } finally {
        await cs.close();
      }
    });
  }
});
