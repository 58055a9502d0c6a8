/**
 * Must hold 9: on SIGTERM the production command (`node dist/src/cli/main.js serve`) stops
 * accepting connections at once, lets in-flight requests finish within server.shutdownGrace,
 * and exits 0. The bound: regression-shutdown-waits-for-upstream-timeouts.test.ts.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { get, serve, tryConnect, until } from '../helpers/cli-process.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { createRegistryKey } from '../helpers/registry-key.js';

describe('graceful shutdown on SIGTERM', () => {
  let upstream: FakeRegistry;
  const dirs: string[] = [];

  before(async () => {
    upstream = await FakeRegistry.start({ key: createRegistryKey() });
    await upstream.publish([{ name: 'slow', version: '1.0.0' }, { name: 'stuck', version: '1.0.0' }]);
  });

  after(async () => {
    await upstream.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('drains: the in-flight request completes, new connections are refused, exit code 0', async () => {
    const cs = await serve(upstream.url, '10s');
    dirs.push(cs.dir);
    assert.equal((await get(new URL('slow', cs.url))).status, 200, 'packument');
    upstream.fault(/slow-1\.0\.0\.tgz$/, { kind: 'slow-body', ms: 1500 }, 1);
    const inFlight = get(new URL('slow/-/slow-1.0.0.tgz', cs.url));
    await until(() => upstream.requestsTo(/slow-1\.0\.0\.tgz$/).length === 1, 5_000, 'the upstream tarball request');

    const signalled = Date.now();
    cs.child.kill('SIGTERM');
    // While the tarball is still on its way, the listening socket is gone.
    let refused = '';
    await until(() => cs.stdout().includes('shutting down'), 5_000, 'the shutdown log line');
    for (let i = 0; i < 50 && refused !== 'ECONNREFUSED'; i++) {
      refused = await tryConnect(cs.url);
      if (refused !== 'ECONNREFUSED') await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(refused, 'ECONNREFUSED', 'new connections are refused during the drain');

    const done = await inFlight;
    assert.ok(Date.now() - signalled < 10_000);
    assert.equal(done.status, 200, done.error);
    assert.equal(done.complete, true);
    assert.ok(done.body.equals(upstream.tarball('slow', '1.0.0')!), 'the in-flight tarball arrived whole');

    const exit = await cs.exit;
    assert.deepEqual([exit.code, exit.signal], [0, null]);
    assert.match(cs.stdout(), /"msg":"stopped"/);
  });
});
