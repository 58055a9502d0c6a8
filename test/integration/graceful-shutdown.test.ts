/**
 * Must hold 9: on SIGTERM the production command (`node dist/src/cli/main.js serve`) stops
 * accepting connections at once, lets in-flight requests finish within server.shutdownGrace,
 * and exits 0. The bound: regression-shutdown-waits-for-upstream-timeouts.test.ts.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
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

  it('closes a keep-alive connection after its in-flight response instead of holding the drain for the whole grace', async () => {
    const cs = await serve(upstream.url, '10s');
    dirs.push(cs.dir);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const viaAgent = (path: string) =>
      new Promise<{ status: number | undefined; connection: string | undefined; body: Buffer }>((resolve, reject) => {
        request(new URL(path, cs.url), { agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode, connection: res.headers.connection, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        }).on('error', reject).end();
      });
    try {
      const first = await viaAgent('stuck');
      assert.equal(first.status, 200);
      assert.equal(first.connection, 'keep-alive');
      upstream.fault(/stuck-1\.0\.0\.tgz$/, { kind: 'slow-body', ms: 1500 }, 1);
      // The same connection, now busy with a slow tarball when the signal comes.
      const inFlight = viaAgent('stuck/-/stuck-1.0.0.tgz');
      await until(() => upstream.requestsTo(/stuck-1\.0\.0\.tgz$/).length === 1, 5_000, 'the upstream tarball request');
      cs.child.kill('SIGTERM');
      await until(() => cs.stdout().includes('shutting down'), 5_000, 'the shutdown log line');
      const done = await inFlight;
      const answered = Date.now();
      assert.equal(done.status, 200);
      assert.equal(done.connection, 'close', 'the response tells the client that this connection ends with it');
      assert.ok(done.body.equals(upstream.tarball('stuck', '1.0.0')!));
      const exit = await cs.exit;
      assert.deepEqual([exit.code, exit.signal], [0, null]);
      assert.ok(Date.now() - answered < 5_000, `the process exited ${Date.now() - answered} ms after the last response (grace 10 s)`);
    } finally {
      agent.destroy();
    }
  });
});
