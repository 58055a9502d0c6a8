import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { VerifyRule } from '../../src/policy/types.js';
import { TarballOrigins } from '../../src/server/tarball-origin.js';
import { warmUp } from '../../src/server/warm-up.js';
import { SignaturePool } from '../../src/verify/signature-pool.js';
import { startCountersign, verifyConfig, type Running } from '../helpers/countersign.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { createRegistryKey } from '../helpers/registry-key.js';

// `serve` runs the verification pipeline once on a generated packument before it listens, so
// that the first large packument is not V8's first sight of that code. It must verify every
// generated signature, and leave nothing behind: no upstream request, no cache entry, no ledger
// row, no metric.
describe('start-up warm-up', () => {
  let upstream: FakeRegistry;
  let cs: Running;

  before(async () => {
    upstream = await FakeRegistry.start({ key: createRegistryKey() });
    cs = await startCountersign({ yaml: verifyConfig(upstream.url) });
  });
  after(async () => {
    await cs?.close();
    await upstream?.close();
  });

  it('verifies every generated signature through the workers, and leaves no trace', async () => {
    const metricsBefore = await (await fetch(`${cs.url}-/metrics`)).text();
    const report = await cs.app.warmUp();
    assert.ok(report !== undefined);
    assert.equal(report.versions, 1500);
    assert.equal(report.verified, report.versions, 'the self-check: every generated signature is valid');
    assert.deepEqual(upstream.requests, [], 'nothing asked of the upstream');
    assert.equal(cs.app.services.packuments.cachedBytes, 0, 'nothing cached');
    const metricsAfter = await (await fetch(`${cs.url}-/metrics`)).text();
    const counted = (text: string) => text.split('\n').filter((line) => /^countersign_(versions_hidden|cache_requests|verification_duration_seconds_count|rewrite)/.test(line));
    assert.deepEqual(counted(metricsAfter), counted(metricsBefore), 'no verification, cache or rewrite metric moved');
    assert.doesNotMatch(metricsAfter, /countersign-warm-up/);
  });

  it('is skipped when no rule verifies', async () => {
    const fastOnly = await startCountersign({
      yaml: `
server:
  dataDir: \${DATA_DIR}
upstreams:
  internal: { url: "${upstream.url}" }
rules:
  - match: ["**"]
    mode: fast
    upstream: internal
`,
    });
    try {
      assert.equal(await fastOnly.app.warmUp(), undefined);
    } finally {
      await fastOnly.close();
    }
  });

  it('reports a verification that does not work', async () => {
    // A worker that finds nothing and fails every signature: the pipeline hides everything, and
    // the warm-up says so (serve logs it as an error) instead of passing it off as warm.
    const broken = new URL(
      `data:text/javascript,${encodeURIComponent(
        "import { parentPort } from 'node:worker_threads'; parentPort.on('message', (m) => parentPort.postMessage(m.tasks ? { id: m.id, results: m.tasks.map(() => false) } : { id: m.id, results: [], found: [] }));",
      )}`,
    );
    const pool = new SignaturePool({ size: 1, inlineBelow: 0, workerUrl: broken });
    try {
      const rule = cs.config.policy.rules[0] as VerifyRule;
      const report = await warmUp({ pool, origins: new TarballOrigins(cs.app.services.client, cs.config.policy), rule, upstreamUrl: upstream.url });
      assert.equal(report.versions, 1500);
      assert.equal(report.verified, 0);
    } finally {
      await pool.close();
    }
  });
});
