/**
 * Must hold 3: hostile names and paths are refused with 400 and a reason before anything is
 * asked of the upstream, and nothing countersign writes lands outside its data dir.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCountersign, verifyConfig, type Running } from '../helpers/countersign.js';
import { snapshotTree } from '../helpers/disk.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { spyOnFsWrites, type FsSpy } from '../helpers/fs-spy.js';
import { rawGet } from '../helpers/http.js';
import { createRegistryKey } from '../helpers/registry-key.js';

/** [raw path, code, what the reason must say] */
const HOSTILE: ReadonlyArray<readonly [string, string, RegExp]> = [
  // traversal, plain and encoded
  ['/..', 'ECS_BAD_PATH', /"\." or "\.\." segments/],
  ['/%2e%2e', 'ECS_BAD_PATH', /"\." or "\.\." segments/],
  ['/%2E%2E/%2e%2e/etc/passwd', 'ECS_BAD_PATH', /"\." or "\.\." segments/],
  ['/alpha/./-/alpha-1.0.0.tgz', 'ECS_BAD_PATH', /"\." or "\.\." segments/],
  ['/alpha/-/%2e%2e', 'ECS_BAD_PATH', /"\." or "\.\." segments/],
  ['/-/%2e%2e/%2e%2e/etc/passwd', 'ECS_BAD_PATH', /"\." or "\.\." segments/],
  ['/..%2f..%2fetc%2fpasswd', 'ECS_BAD_NAME', /invalid package name "\.\.\/\.\.\/etc\/passwd"/],
  ['/%2e%2e%2f%2e%2e%2fetc%2fpasswd', 'ECS_BAD_NAME', /invalid package name/],
  ['/%252e%252e%252fetc', 'ECS_BAD_NAME', /invalid package name "%2e%2e%2fetc"/],
  ['/alpha%5c..%5c..%5cx', 'ECS_BAD_PATH', /backslash/],
  // encoded slashes beyond the scope separator
  ['/@scope%2fname%2fextra', 'ECS_BAD_NAME', /invalid package name "@scope\/name\/extra"/],
  ['/@scope/name%2fextra', 'ECS_BAD_NAME', /invalid package name "@scope\/name\/extra"/],
  ['/alpha%2f-%2falpha-1.0.0.tgz', 'ECS_BAD_NAME', /invalid package name/],
  ['/alpha/-/..%2f..%2falpha-1.0.0.tgz', 'ECS_BAD_PATH', /encoded "\/" is only allowed between a scope and a name/],
  ['/@scope/beta/-/%2e%2e%2fbeta-1.0.0.tgz', 'ECS_BAD_PATH', /encoded "\/"/],
  // control characters and broken escapes
  ['/foo%00bar', 'ECS_BAD_PATH', /control characters/],
  ['/foo%0d%0aSet-Cookie:%20x', 'ECS_BAD_PATH', /control characters/],
  ['/foo%7f', 'ECS_BAD_PATH', /control characters/],
  ['/alpha/-/alpha-1.0.0.tgz%00.png', 'ECS_BAD_PATH', /control characters/],
  ['/-/v1/search%00', 'ECS_BAD_PATH', /control characters/],
  ['/%E0%A4%A', 'ECS_BAD_PATH', /malformed %-escape/],
  // names npm would never publish
  [`/${'a'.repeat(215)}`, 'ECS_BAD_NAME', /longer than 214 characters/],
  [`/@s/${'a'.repeat(212)}`, 'ECS_BAD_NAME', /longer than 214 characters/],
  ['/.hidden', 'ECS_BAD_NAME', /not starting with `\.` or `_`/],
  ['/_private', 'ECS_BAD_NAME', /invalid package name/],
  ['/node_modules', 'ECS_BAD_NAME', /invalid package name/],
  ['/%C3%A9clair', 'ECS_BAD_NAME', /invalid package name "éclair"/],
  ['/@scope', 'ECS_BAD_NAME', /is a scope, not a package/],
  ['/alpha//-/alpha-1.0.0.tgz', 'ECS_BAD_PATH', /empty segment/],
  // tarball file names that do not belong to the package
  ['/alpha/-/other-1.0.0.tgz', 'ECS_TARBALL_NAME_MISMATCH', /does not belong to alpha: expected alpha-<version>\.tgz/],
  ['/alpha/-/alpha-1.0.0.tar.gz', 'ECS_TARBALL_NAME_MISMATCH', /does not belong to alpha/],
  ['/alpha/-/alpha-latest.tgz', 'ECS_TARBALL_NAME_MISMATCH', /does not belong to alpha/],
  ['/@scope/beta/-/@scope-beta-1.0.0.tgz', 'ECS_TARBALL_NAME_MISMATCH', /does not belong to @scope\/beta/],
  ['/@scope/beta/-/alpha-1.0.0.tgz', 'ECS_TARBALL_NAME_MISMATCH', /does not belong to @scope\/beta/],
  // not a path at all
  ['http://evil.example/alpha', 'ECS_BAD_PATH', /must start with "\/"/],
  [`/${'a/'.repeat(1100)}`, 'ECS_BAD_PATH', /longer than 2048 characters/],
];

describe('hostile names and paths', () => {
  let root: string;
  let dataDir: string;
  let upstream: FakeRegistry;
  let cs: Running;
  let spy: FsSpy;
  let outsideBefore: Map<string, string>;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'cs-paths-'));
    dataDir = join(root, 'data');
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0\n');
    writeFileSync(join(root, 'alpha-1.0.0.tgz'), 'a decoy next to the data dir\n');
    upstream = await FakeRegistry.start({ key: createRegistryKey() });
    await upstream.publish([{ name: 'alpha', version: '1.0.0' }, { name: '@scope/beta', version: '1.0.0' }]);
    spy = spyOnFsWrites();
    cs = await startCountersign({ yaml: verifyConfig(upstream.url), dataDir });
    outsideBefore = snapshotTree(root);
  });

  after(async () => {
    spy.restore();
    await cs.close();
    await upstream.close();
    rmSync(root, { recursive: true, force: true });
  });

  for (const [path, code, reason] of HOSTILE) {
    it(`${path.length > 60 ? `${path.slice(0, 60)}…` : path} → 400 ${code}`, async () => {
      const asked = upstream.requests.length;
      const res = await rawGet(new URL(cs.url), path);
      assert.equal(res.status, 400);
      const body = JSON.parse(res.body) as { code: string; error: string };
      assert.equal(body.code, code);
      assert.match(body.error, reason);
      assert.equal(upstream.requests.length, asked, 'the upstream was not asked');
    });
  }

  it('a 214-character name is valid (404 from the upstream), a hostile version spec is 400', async () => {
    assert.equal((await rawGet(new URL(cs.url), `/${'a'.repeat(214)}`)).status, 404);
    const res = await rawGet(new URL(cs.url), `/alpha/${'x'.repeat(300)}`);
    assert.equal(res.status, 400);
    assert.equal((JSON.parse(res.body) as { code: string }).code, 'ECS_BAD_VERSION');
  });

  it('a Host header that cannot form a tarball URL is 400 ECS_BAD_HOST', async () => {
    for (const host of ['evil.example/../x', 'user@evil.example', 'evil.example:80:80', 'a b']) {
      const res = await rawGet(new URL(cs.url), '/alpha', { host });
      assert.equal(res.status, 400, host);
      const body = JSON.parse(res.body) as { code: string; error: string };
      assert.equal(body.code, 'ECS_BAD_HOST', host);
      assert.match(body.error, /set server\.publicUrl/);
    }
  });

  it('writes only inside the data dir: hostile requests wrote nothing, tarballs went to the content-addressed store', async () => {
    for (const path of ['/alpha/-/alpha-1.0.0.tgz', '/@scope%2fbeta/-/beta-1.0.0.tgz']) {
      assert.equal((await rawGet(new URL(cs.url), path)).status, 200, path);
    }
    await new Promise((r) => setTimeout(r, 100)); // the disk cache is written after the response
    assert.ok(spy.written.length > 0, 'the spy saw the tarball store write');
    // The data dir itself is created at start-up (the trust store opens there).
    for (const path of spy.written) assert.ok(path === dataDir || path.startsWith(`${dataDir}/`), `wrote ${path}`);
    for (const path of spy.written.filter((p) => p.includes('/sha512/'))) {
      assert.match(path.slice(dataDir.length), /^\/tarballs\/sha512(\/[0-9a-f]{2}(\/[0-9a-f]{2}(\/[0-9a-f]{128})?)?)?$/);
    }
    const outsideAfter = snapshotTree(root);
    for (const map of [outsideBefore, outsideAfter]) for (const key of [...map.keys()]) if (key === 'data' || key.startsWith('data/')) map.delete(key);
    assert.deepEqual(outsideAfter, outsideBefore, 'nothing changed next to the data dir');
  });
});
