/**
 * Bug: a verified (public) version's tarball could be fetched from any configured upstream whose
 * origin its dist.tarball named, including the internal registry of a fast scope, with that
 * registry's token. Anyone who can publish on the public registry could make countersign send
 * its internal token to internal paths of their choosing, and serve an internal tarball under a
 * public name once they knew its hash. A fast scope's registry (and its token) now only serves
 * the names of its fast rules; such a version is hidden with reason tarball-origin.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startCountersign, type Running } from '../helpers/countersign.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { createRegistryKey, type TestRegistryKey } from '../helpers/registry-key.js';

describe('regression: public metadata cannot point countersign at the internal registry', () => {
  let key: TestRegistryKey;
  let publicUp: FakeRegistry;
  let internalUp: FakeRegistry;
  let mirrorTarballs: FakeRegistry;
  let cs: Running;

  before(async () => {
    key = createRegistryKey();
    publicUp = await FakeRegistry.start({ key });
    internalUp = await FakeRegistry.start();
    mirrorTarballs = await FakeRegistry.start();
    internalUp.requiredToken = 'internal-token';
    await internalUp.publish([{ name: '@acme/secret', version: '1.0.0' }]);
    await mirrorTarballs.publish([{ name: 'mirrored', version: '1.0.0' }]);
    await publicUp.publish([{ name: 'sneaky', version: '1.0.0' }, { name: 'mirrored', version: '1.0.0' }]);

    // The attacker knows (or guessed) the internal tarball's hash and publishes a public version
    // that points at it; the public registry signs whatever integrity it was given.
    const secret = internalUp.tarball('@acme/secret', '1.0.0')!;
    const integrity = `sha512-${createHash('sha512').update(secret).digest('base64')}`;
    const doc = publicUp.packument('sneaky') as { versions: Record<string, { dist: Record<string, unknown> }> };
    doc.versions['1.0.0']!.dist = { integrity, tarball: `${internalUp.url}@acme/secret/-/secret-1.0.0.tgz`, signatures: [key.sign('sneaky', '1.0.0', integrity)] };
    publicUp.overridePackument('sneaky', doc);

    // A mirror that serves tarballs from another host: that host is configured as an upstream
    // of its own, and no fast rule uses it, so it stays allowed.
    const mirrored = publicUp.packument('mirrored') as { versions: Record<string, { dist: Record<string, unknown> }> };
    const bytes = mirrorTarballs.tarball('mirrored', '1.0.0')!;
    const mirroredIntegrity = `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
    mirrored.versions['1.0.0']!.dist = { integrity: mirroredIntegrity, tarball: `${mirrorTarballs.url}mirrored/-/mirrored-1.0.0.tgz`, signatures: [key.sign('mirrored', '1.0.0', mirroredIntegrity)] };
    publicUp.overridePackument('mirrored', mirrored);

    cs = await startCountersign({
      yaml: `
server: { dataDir: "\${DATA_DIR}", shutdownGrace: 1s }
upstreams:
  npmjs: { url: ${publicUp.url}, keys: upstream }
  internal: { url: ${internalUp.url}, token: internal-token }
  tarball-host: { url: ${mirrorTarballs.url}, keys: none }
rules:
  - { match: ["@acme/*"], mode: fast, upstream: internal }
  - { match: ["**"], upstream: npmjs }
`,
    });
  });

  after(async () => {
    await cs.close();
    await Promise.all([publicUp.close(), internalUp.close(), mirrorTarballs.close()]);
  });

  it('hides the public version whose tarball is on the internal registry, saying why', async () => {
    const tarball = await fetch(`${cs.url}sneaky/-/sneaky-1.0.0.tgz`);
    const res = await fetch(`${cs.url}sneaky`);
    assert.equal(res.status, 403);
    const body = (await res.json()) as { code: string; error: string };
    assert.equal(body.code, 'ECS_ALL_VERSIONS_HIDDEN');
    assert.match(body.error, /tarball-origin/);
    assert.equal(tarball.status, 403);
    assert.match(((await tarball.json()) as { error: string }).error, /upstream internal serves fast-scope names only/);
  });

  it('never sent the internal registry anything', () => {
    assert.deepEqual(internalUp.requests.map((r) => r.url), []);
  });

  it('still fetches tarballs from another configured upstream that no fast rule uses', async () => {
    const res = await fetch(`${cs.url}mirrored/-/mirrored-1.0.0.tgz`);
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), mirrorTarballs.tarball('mirrored', '1.0.0'));
  });
});
