import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCountersign, verifyConfig, type Running } from '../helpers/countersign.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { createRegistryKey } from '../helpers/registry-key.js';

// A cold packument renders the form its first request wants at once and the other one only when a
// client first asks for it (from the cached upstream body). Whatever the order, every form must
// come out byte for byte the same, with the same ETag.
describe('served packument forms do not depend on which one was asked for first', () => {
  const CORGI = 'application/vnd.npm.install-v1+json';
  let upstream: FakeRegistry;
  const servers: Running[] = [];

  before(async () => {
    upstream = await FakeRegistry.start({ key: createRegistryKey() });
    await upstream.publish([
      { name: 'alpha', version: '1.0.0' },
      { name: 'alpha', version: '1.1.0', deprecated: 'use 2' },
      { name: 'alpha', version: '2.0.0', sign: 'none', tags: ['latest'] },
      { name: 'alpha', version: '2.1.0-rc.1', tags: ['next'] },
    ]);
  });

  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await upstream.close();
  });

  async function server(): Promise<Running> {
    const cs = await startCountersign({ yaml: verifyConfig(upstream.url), env: { COUNTERSIGN_PUBLIC_URL: 'http://registry.test/' } });
    servers.push(cs);
    return cs;
  }

  async function form(cs: Running, accept: string): Promise<{ body: string; etag: string | null }> {
    const res = await fetch(new URL('/alpha', cs.url), { headers: { accept } });
    assert.equal(res.status, 200);
    return { body: await res.text(), etag: res.headers.get('etag') };
  }

  it('full first, abbreviated first, or a tarball first: the same bytes and ETags', async () => {
    const a = await server();
    const fullFirst = { full: await form(a, 'application/json'), abbreviated: await form(a, CORGI) };
    const b = await server();
    const abbreviatedFirst = { abbreviated: await form(b, CORGI), full: await form(b, 'application/json') };
    const c = await server();
    const tarball = await fetch(new URL('/alpha/-/alpha-1.0.0.tgz', c.url));
    assert.equal(tarball.status, 200);
    await tarball.arrayBuffer();
    const neither = { full: await form(c, 'application/json'), abbreviated: await form(c, CORGI) };

    assert.deepEqual(abbreviatedFirst, fullFirst);
    assert.deepEqual(neither, fullFirst);
    const full = JSON.parse(fullFirst.full.body) as { versions: Record<string, unknown>; 'dist-tags': Record<string, string> };
    assert.deepEqual(Object.keys(full.versions), ['1.0.0', '1.1.0', '2.1.0-rc.1']);
    assert.deepEqual(full['dist-tags'], { latest: '1.0.0', next: '2.1.0-rc.1' });
    assert.ok(fullFirst.abbreviated.body.length < fullFirst.full.body.length);
  });
});
