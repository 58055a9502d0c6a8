/**
 * Bug: shutdown was not bounded by server.shutdownGrace. After the grace the client connections
 * were cut, but closing the upstream pools waited for their requests in flight, and a packument
 * fetch has no client to abort it: a hung upstream kept the process alive until its headers
 * timeout (30 s by default), past the Kubernetes grace period, so it was SIGKILLed.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { get, serve, until } from '../helpers/cli-process.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { createRegistryKey } from '../helpers/registry-key.js';

describe('regression: shutdown is bounded by shutdownGrace, not by upstream timeouts', () => {
  let upstream: FakeRegistry;
  const dirs: string[] = [];

  before(async () => {
    upstream = await FakeRegistry.start({ key: createRegistryKey() });
    await upstream.publish([{ name: 'stuck', version: '1.0.0' }]);
  });

  after(async () => {
    await upstream.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('is bounded: what still runs after shutdownGrace is cut, and the process exits 0 soon after', async () => {
    const cs = await serve(upstream.url, '1s');
    dirs.push(cs.dir);
    // Neither of these would end by itself for 30 s (the configured upstream timeouts).
    upstream.fault(/^\/never-answers$/, { kind: 'hang-headers' });
    upstream.fault(/stuck-1\.0\.0\.tgz$/, { kind: 'hang-body' });
    assert.equal((await get(new URL('stuck', cs.url))).status, 200);
    const packument = get(new URL('never-answers', cs.url));
    const tarball = get(new URL('stuck/-/stuck-1.0.0.tgz', cs.url));
    await until(() => upstream.requestsTo(/^\/never-answers$/).length === 1 && upstream.requestsTo(/stuck-1\.0\.0\.tgz$/).length === 1, 5_000, 'both upstream requests');

    const signalled = Date.now();
    cs.child.kill('SIGTERM');
    const exit = await cs.exit;
    const seconds = (exit.at - signalled) / 1000;
    assert.deepEqual([exit.code, exit.signal], [0, null]);
    assert.ok(seconds >= 0.9 && seconds < 4, `exited ${seconds} s after SIGTERM with a 1 s grace`);
    for (const res of [await packument, await tarball]) assert.equal(res.complete, false, 'cut, not completed');
  });
});
