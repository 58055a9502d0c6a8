/**
 * Bug: JSON.parse accepts any nesting depth, JSON.stringify does not. A version whose manifest
 * held a value nested some 100,000 levels deep (any publisher can put that in package.json)
 * parsed fine, then overflowed the stack when the packument was re-serialized: 500 ECS_INTERNAL
 * for the whole package, on every request. Such a version is now malformed and hidden; a deep
 * top-level field (copied there from the latest package.json, like `repository`) is dropped.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCountersign, verifyConfig, type Running } from '../helpers/countersign.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { createRegistryKey } from '../helpers/registry-key.js';

const DEPTH = 100_000;
const deep = (inner: string) => `${'['.repeat(DEPTH)}${inner}${']'.repeat(DEPTH)}`;

describe('regression: a deeply nested packument is served without the deep parts', () => {
  let upstream: FakeRegistry;
  let cs: Running;

  before(async () => {
    upstream = await FakeRegistry.start({ key: createRegistryKey() });
    await upstream.publish([
      { name: 'nested', version: '1.0.0' },
      { name: 'nested', version: '1.0.1', tags: ['latest'] },
    ]);
    const text = JSON.stringify(upstream.packument('nested'))
      .replace('"version":"1.0.1",', `"version":"1.0.1","config":{"x":${deep('"boom"')}},`)
      .replace(/^\{/, `{"repository":${deep('1')},`);
    upstream.overridePackument('nested', text);
    cs = await startCountersign({ yaml: verifyConfig(upstream.url) });
  });

  after(async () => {
    await cs.close();
    await upstream.close();
  });

  it('hides the deep version as malformed and serves the others, without the deep top-level field', async () => {
    const res = await fetch(`${cs.url}nested`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { versions: Record<string, unknown>; 'dist-tags': Record<string, string>; repository?: unknown };
    assert.deepEqual(Object.keys(doc.versions), ['1.0.0']);
    assert.deepEqual(doc['dist-tags'], { latest: '1.0.0' });
    assert.equal(doc.repository, undefined);
  });

  it('refuses the deep version’s tarball with the reason, without fetching it', async () => {
    const res = await fetch(`${cs.url}nested/-/nested-1.0.1.tgz`);
    assert.equal(res.status, 403);
    const body = (await res.json()) as { code: string; error: string };
    assert.equal(body.code, 'ECS_VERSION_HIDDEN');
    assert.match(body.error, /malformed .*nested deeper than 64 levels/);
    assert.equal(upstream.requestsTo(/nested-1\.0\.1\.tgz/).length, 0);
  });

  it('serves the abbreviated form and the good version’s manifest', async () => {
    const corgi = await fetch(`${cs.url}nested`, { headers: { accept: 'application/vnd.npm.install-v1+json' } });
    assert.equal(corgi.status, 200);
    assert.equal((await fetch(`${cs.url}nested/1.0.0`)).status, 200);
    assert.deepEqual(cs.logs.filter((l) => l['msg'] === 'unhandled error'), []);
  });
});
