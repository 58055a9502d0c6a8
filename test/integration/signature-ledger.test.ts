import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCountersign, verifyConfig } from '../helpers/countersign.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { createRegistryKey } from '../helpers/registry-key.js';

// Registry signatures that verified are kept in signatures.db, so a restarted server looks them
// up instead of verifying them again. A result is only ever reused for the same key, message and
// signature: a signature copied onto another version after the restart is verified, and fails.
describe('signature ledger across a restart', () => {
  const key = createRegistryKey();
  const dataDir = mkdtempSync(join(tmpdir(), 'cs-ledger-data-'));
  let upstream: FakeRegistry;
  const integrityOf = (version: string) => `sha512-${Buffer.alloc(64, Number(version.split('.')[2]) % 251).toString('base64')}`;

  // Large enough (> 256 KB) that a first sight scans the body as it arrives.
  function packument(versions: readonly string[], signatureOf: (version: string) => { keyid: string; sig: string }): unknown {
    const doc: { versions: Record<string, unknown>; time: Record<string, string> } = { versions: {}, time: {} };
    for (const version of versions) {
      doc.versions[version] = {
        name: 'ledgered',
        version,
        description: 'x'.repeat(1000),
        dist: { integrity: integrityOf(version), tarball: `${upstream.url}ledgered/-/ledgered-${version}.tgz`, signatures: [signatureOf(version)] },
      };
      doc.time[version] = '2024-01-01T00:00:00.000Z';
    }
    return { _id: 'ledgered', name: 'ledgered', 'dist-tags': { latest: versions.at(-1) }, ...doc };
  }
  const versions = Array.from({ length: 300 }, (_, i) => `1.0.${i}`);
  // ECDSA signatures are randomized: each version is signed once, as a registry does.
  const signatures = new Map<string, { keyid: string; sig: string }>();
  const signatureOf = (version: string) => {
    if (!signatures.has(version)) signatures.set(version, key.sign('ledgered', version, integrityOf(version)));
    return signatures.get(version)!;
  };

  before(async () => {
    upstream = await FakeRegistry.start({ key });
  });

  after(async () => {
    await upstream?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const served = async (url: string) => {
    const res = await fetch(new URL('/ledgered', url), { headers: { accept: 'application/json' } });
    assert.equal(res.status, 200);
    return new Set(Object.keys(((await res.json()) as { versions: object }).versions));
  };
  const metric = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);

  it('verifies every signature on first sight and writes them down', async () => {
    upstream.overridePackument('ledgered', packument(versions, signatureOf));
    const cs = await startCountersign({ yaml: verifyConfig(upstream.url), dataDir });
    try {
      assert.equal((await served(cs.url)).size, 300);
    } finally {
      await cs.close();
    }
  });

  it('after a restart, looks up what it verified and verifies only what changed', async () => {
    const changed = [...versions, '1.1.0'];
    // 1.0.5 now carries 1.0.4's (valid) signature: a different message, so no ledger hit.
    upstream.overridePackument('ledgered', packument(changed, (v) => signatureOf(v === '1.0.5' ? '1.0.4' : v)));
    const cs = await startCountersign({ yaml: verifyConfig(upstream.url), dataDir });
    try {
      const now = await served(cs.url);
      assert.equal(now.has('1.0.5'), false, 'a signature copied from another version');
      assert.ok(now.has('1.1.0'), 'a new version, verified');
      assert.equal(now.size, 300);
      const text = await (await fetch(new URL('/-/metrics', cs.url))).text();
      assert.equal(metric(text, 'countersign_cache_requests_total{cache="signature-ledger",result="hit"}'), 299);
      assert.equal(metric(text, 'countersign_cache_requests_total{cache="signature-ledger",result="miss"}'), 2);
    } finally {
      await cs.close();
    }
  });

  it('a ledger that cannot be opened leaves the server serving, and says so', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'cs-ledger-blocked-'));
    mkdirSync(join(elsewhere, 'signatures.db')); // a directory where the file should be
    const cs = await startCountersign({ yaml: verifyConfig(upstream.url), dataDir: elsewhere });
    try {
      const now = await served(cs.url);
      assert.equal(now.has('1.0.5'), false);
      assert.equal(now.size, 300);
      assert.ok(cs.logs.some((line) => line['level'] === 'warn' && /signatures\.db cannot be opened/.test(String(line['msg']))), 'a warning in the log');
    } finally {
      await cs.close();
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('a lost ledger only costs verifications', async () => {
    rmSync(join(dataDir, 'signatures.db'));
    const cs = await startCountersign({ yaml: verifyConfig(upstream.url), dataDir });
    try {
      const now = await served(cs.url);
      assert.equal(now.has('1.0.5'), false);
      assert.equal(now.size, 300);
    } finally {
      await cs.close();
    }
  });
});
