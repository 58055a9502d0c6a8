import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCountersign, type Running } from '../helpers/countersign.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { createRegistryKey } from '../helpers/registry-key.js';

const DAY = 86_400_000;

describe('packument cache, revalidation and the clock', () => {
  let upstream: FakeRegistry;
  let cs: Running;
  let now = Date.parse('2024-03-01T00:00:00Z');

  before(async () => {
    upstream = await FakeRegistry.start({ key: createRegistryKey() });
    await upstream.publish([
      { name: 'kappa', version: '1.0.0', publishedAt: new Date(now - 30 * DAY) },
      { name: 'kappa', version: '1.1.0', publishedAt: new Date(now - DAY) },
    ]);
    cs = await startCountersign({
      now: () => now,
      yaml: `
server: { dataDir: "\${DATA_DIR}", shutdownGrace: 1s }
upstreams:
  npmjs: { url: ${upstream.url}, keys: upstream, timeouts: { connect: 1s, headers: 1s, bodyIdle: 1s } }
packuments: { maxAge: 5m, staleIfError: 1d }
rules:
  - match: ["**"]
    require: { minReleaseAge: 3d }
`,
    });
  });

  after(async () => {
    await cs.close();
    await upstream.close();
  });

  const versions = async (res: Response) => Object.keys(((await res.json()) as { versions: object }).versions);

  it('hides a version until it is old enough, then shows it without an upstream change', async () => {
    const first = await fetch(`${cs.url}kappa`);
    assert.deepEqual(await versions(first), ['1.0.0']);
    now += 2 * DAY + 60_000; // 1.1.0 is now 3 days and a minute old
    const later = await fetch(`${cs.url}kappa`);
    assert.deepEqual(await versions(later), ['1.0.0', '1.1.0']);
    assert.equal(((await (await fetch(`${cs.url}kappa/latest`)).json()) as { version: string }).version, '1.1.0');
  });

  it('revalidates with the upstream ETag after maxAge', async () => {
    const asked = upstream.requestsTo(/^\/kappa$/).length;
    await (await fetch(`${cs.url}kappa`)).arrayBuffer();
    assert.equal(upstream.requestsTo(/^\/kappa$/).length, asked, 'fresh: not asked');
    now += 6 * 60_000;
    assert.equal((await fetch(`${cs.url}kappa`)).status, 200);
    const revalidation = upstream.requestsTo(/^\/kappa$/).at(-1)!;
    assert.ok(revalidation.headers['if-none-match'], 'asked with If-None-Match');
    const metrics = await (await fetch(`${cs.url}metrics`)).text();
    assert.match(metrics, /countersign_cache_requests_total\{cache="packument",result="revalidated"\} [1-9]/);
  });

  it('serves a stale copy, saying so, when the upstream fails', async () => {
    now += 6 * 60_000;
    upstream.fault(/^\/kappa$/, { kind: 'status', status: 503 }, 1);
    const res = await fetch(`${cs.url}kappa`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-countersign-stale'), 'ECS_UPSTREAM_STATUS');
    assert.match(res.headers.get('warning') ?? '', /^110 /);
    assert.deepEqual(await versions(res), ['1.0.0', '1.1.0']);
  });

  it('answers 503 when the upstream is unreachable and nothing is cached', async () => {
    upstream.fault(/^\/uncached$/, { kind: 'reset' }, 1);
    const res = await fetch(`${cs.url}uncached`);
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { code: string }).code, 'ECS_UPSTREAM_UNREACHABLE');
  });

  it('answers health and readiness probes and logs one line per request', async () => {
    assert.equal((await fetch(`${cs.url}healthz`)).status, 200);
    const ready = await fetch(`${cs.url}readyz`);
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as { status: string }).status, 'ready');
    const lines = cs.logs.filter((l) => l.msg === 'request');
    const probe = lines.find((l) => l.url === '/readyz');
    assert.ok(probe, 'the probe was logged');
    assert.equal(probe.status, 200);
    assert.equal(typeof probe.ms, 'number');
    assert.equal(probe.route, 'ops');
    const stale = lines.find((l) => l.cache === 'stale');
    assert.ok(stale, 'the stale answer is visible in the log');
  });
});
