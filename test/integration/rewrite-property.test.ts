/**
 * Must hold 6, through the whole server: for generated hostile packuments whose versions pass
 * or fail the policy for every reason there is (bad or missing signature, unknown key, foreign
 * tarball, no usable integrity, too fresh, malformed), both served forms parse; every dist-tag
 * names a served version; a hidden version leaves no trace in `versions`, `time` or the tags;
 * every tarball URL is countersign's; and a hidden version's tarball is refused without a fetch.
 * The unit-level property (renderPackument alone) is in test/unit/registry/render.test.ts.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { startCountersign, verifyConfig, type Running } from '../helpers/countersign.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { versionArb } from '../helpers/packument-gen.js';
import { createRegistryKey, type TestRegistryKey } from '../helpers/registry-key.js';

type Sign = 'valid' | 'invalid' | 'none' | 'other-key';
type Tarball = 'upstream' | 'foreign' | 'missing';
type Integrity = 'sha512' | 'sha1-only' | 'garbage';
type Shape = 'ok' | 'wrong-version' | 'no-dist' | 'not-object';

interface VersionSpec {
  readonly version: string;
  readonly sign: Sign;
  readonly tarball: Tarball;
  readonly integrity: Integrity;
  readonly fresh: boolean;
  readonly shape: Shape;
  readonly deprecated: boolean;
  readonly protoKey: boolean;
}

interface Case {
  readonly versions: readonly VersionSpec[];
  readonly tags: ReadonlyArray<readonly [string, unknown]>;
  readonly junk: readonly string[];
  readonly scoped: boolean;
}

const often = <T>(common: T, ...rare: T[]): fc.Arbitrary<T> =>
  fc.oneof({ weight: 3 * rare.length, arbitrary: fc.constant(common) }, { weight: rare.length, arbitrary: fc.constantFrom(...rare) });

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    versions: fc.uniqueArray(
      fc.record({
        version: versionArb,
        sign: often<Sign>('valid', 'invalid', 'none', 'other-key'),
        tarball: often<Tarball>('upstream', 'foreign', 'missing'),
        integrity: often<Integrity>('sha512', 'sha1-only', 'garbage'),
        fresh: fc.boolean(),
        shape: often<Shape>('ok', 'wrong-version', 'no-dist', 'not-object'),
        deprecated: fc.boolean(),
        protoKey: fc.boolean(),
      }),
      { maxLength: 10, selector: (v) => v.version },
    ),
    junk: fc.uniqueArray(fc.constantFrom('__proto__', 'constructor', 'v1.0.0', '1.0', '9'.repeat(300)), { maxLength: 2 }),
    scoped: fc.boolean(),
  })
  .chain((c) => {
    const keys = [...c.versions.map((v) => v.version), ...c.junk];
    const target: fc.Arbitrary<unknown> = fc.oneof(
      { weight: 4, arbitrary: keys.length > 0 ? fc.constantFrom(...keys) : fc.constant('1.0.0') },
      { weight: 1, arbitrary: fc.constantFrom<unknown>('9.9.9', '', 42, null, { v: '1.0.0' }) },
    );
    const tag = fc.constantFrom('latest', 'latest', 'next', 'beta', 'lts', '__proto__', 'has space');
    return fc.uniqueArray(fc.tuple(tag, target), { maxLength: 5, selector: ([t]) => t }).map((tags) => ({ ...c, tags }));
  });

/** Defines an own property, even `__proto__`, as JSON.parse would. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

describe('property: the served packument, through the whole server', () => {
  let key: TestRegistryKey;
  let otherKey: TestRegistryKey;
  let upstream: FakeRegistry;
  let elsewhere: Server;
  let elsewhereUrl: string;
  let elsewhereRequests = 0;
  let cs: Running;
  let counter = 0;

  before(async () => {
    key = createRegistryKey();
    otherKey = createRegistryKey();
    upstream = await FakeRegistry.start({ key });
    elsewhere = createServer((_req, res) => {
      elsewhereRequests++;
      res.end('no');
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    elsewhereUrl = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/`;
    cs = await startCountersign({ yaml: verifyConfig(upstream.url, 'registrySignature: required\nintegrity: sha512\nminReleaseAge: 1d') });
  });

  after(async () => {
    await cs.close();
    await upstream.close();
    await new Promise<void>((resolve) => elsewhere.close(() => resolve()));
  });

  /** Builds the upstream document; returns it and the versions the policy must serve. */
  function build(name: string, c: Case): { doc: Record<string, unknown>; clean: string[] } {
    const unscoped = name.split('/').pop()!;
    const versions: Record<string, unknown> = {};
    const time: Record<string, unknown> = { created: '2019-01-01T00:00:00.000Z', modified: '2024-01-01T00:00:00.000Z' };
    const clean: string[] = [];
    for (const v of c.versions) {
      const integrity = v.integrity === 'sha512' ? `sha512-${Buffer.alloc(64, v.version.length).toString('base64')}`
        : v.integrity === 'sha1-only' ? `sha1-${Buffer.alloc(20, 1).toString('base64')}` : 'sha512-not!base64';
      const dist: Record<string, unknown> = { integrity };
      if (v.tarball !== 'missing') dist['tarball'] = `${v.tarball === 'upstream' ? upstream.url : elsewhereUrl}${name}/-/${unscoped}-${v.version}.tgz`;
      if (v.sign !== 'none') {
        const signer = v.sign === 'other-key' ? otherKey : key;
        dist['signatures'] = [v.sign === 'invalid' ? { keyid: key.keyid, sig: key.signMessage(`${name}@${v.version}:sha512-forged`) } : signer.sign(name, v.version, integrity)];
      }
      const manifest: Record<string, unknown> = { name, version: v.shape === 'wrong-version' ? '0.0.0-other' : v.version, description: 'generated' };
      if (v.shape !== 'no-dist') manifest['dist'] = dist;
      if (v.deprecated) manifest['deprecated'] = 'do not use';
      if (v.protoKey) setOwn(manifest, '__proto__', { polluted: 'manifest' });
      setOwn(versions, v.version, v.shape === 'not-object' ? 'a string' : manifest);
      setOwn(time, v.version, v.fresh ? new Date().toISOString() : '2020-06-01T00:00:00.000Z');
      if (v.shape === 'ok' && v.sign === 'valid' && v.tarball === 'upstream' && v.integrity === 'sha512' && !v.fresh) clean.push(v.version);
    }
    for (const junk of c.junk) {
      setOwn(versions, junk, { name, version: junk, dist: { tarball: `${elsewhereUrl}junk.tgz` } });
      setOwn(time, junk, '2020-01-01T00:00:00.000Z');
    }
    const tags: Record<string, unknown> = {};
    for (const [tag, target] of c.tags) setOwn(tags, tag, target);
    const doc = { _id: name, name, 'dist-tags': tags, versions, time, readme: '# generated' };
    return { doc: JSON.parse(JSON.stringify(doc)) as Record<string, unknown>, clean };
  }

  function checkForm(json: Record<string, unknown>, name: string, clean: readonly string[], hidden: readonly string[], form: 'full' | 'abbreviated'): void {
    const unscoped = name.split('/').pop()!;
    assert.equal(json['name'], name);
    const versions = json['versions'] as Record<string, { dist: { tarball: string } }>;
    assert.deepEqual(Object.keys(versions), clean, `${form}: served versions`);
    const tags = json['dist-tags'] as Record<string, unknown>;
    for (const [tag, version] of Object.entries(tags)) {
      assert.ok(typeof version === 'string' && Object.hasOwn(versions, version), `${form}: dist-tag ${tag} -> ${String(version)}`);
    }
    for (const [version, manifest] of Object.entries(versions)) {
      assert.equal(manifest.dist.tarball, `${cs.url}${name}/-/${unscoped}-${version}.tgz`, `${form}: tarball URL of ${version}`);
    }
    if (form === 'full') {
      for (const k of Object.keys(json['time'] as object)) assert.ok(k === 'created' || k === 'modified' || clean.includes(k), `time.${k}`);
    } else {
      assert.equal(json['time'], undefined);
    }
    for (const h of hidden) {
      assert.ok(!Object.hasOwn(versions, h) && !Object.values(tags).includes(h), `${form}: hidden ${h} left a trace`);
    }
  }

  it('holds for 60 generated packuments', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const n = counter++;
        const name = c.scoped ? `@prop/p${n}` : `prop-${n}`;
        const { doc, clean } = build(name, c);
        const hidden = c.versions.map((v) => v.version).filter((v) => !clean.includes(v));
        upstream.overridePackument(name, doc);
        const asked = upstream.requests.length;
        for (const accept of ['application/json', 'application/vnd.npm.install-v1+json']) {
          const res = await fetch(cs.url + name, { headers: { accept } });
          const text = await res.text();
          if (clean.length === 0) {
            assert.equal(res.status, c.versions.length + c.junk.length === 0 ? 404 : 403, text);
            continue;
          }
          assert.equal(res.status, 200, text);
          assert.doesNotMatch(text, /__proto__|polluted/);
          checkForm(JSON.parse(text) as Record<string, unknown>, name, clean, hidden, accept === 'application/json' ? 'full' : 'abbreviated');
        }
        for (const h of hidden) {
          const res = await fetch(`${cs.url}${name}/-/${name.split('/').pop()!}-${h}.tgz`);
          assert.equal(res.status, 403, `tarball of hidden ${h}`);
          await res.arrayBuffer();
        }
        assert.equal(upstream.requests.slice(asked).filter((r) => r.url.endsWith('.tgz')).length, 0, 'no hidden tarball was fetched');
        assert.equal(elsewhereRequests, 0);
        assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
      }),
      { numRuns: 60 },
    );
  });
});
