import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../../../src/config/load.js';
import { TarballOrigins } from '../../../src/server/tarball-origin.js';
import { UpstreamClient } from '../../../src/upstream/client.js';

const config = parseConfig(`
upstreams:
  public: { url: "https://registry.example/npm/public/" }
  internal: { url: "https://registry.example/npm/internal/", token: secret }
  other-internal: { url: "https://internal.example/" }
  tarballs: { url: "https://cdn.example/" }
rules:
  - { match: ["@acme/*"], mode: fast, upstream: internal }
  - { match: ["@other/*"], mode: fast, upstream: other-internal }
  - { match: ["@own/*"], upstream: other-internal }
  - { match: ["**"], upstream: public }
`, 'test.yaml', { env: {}, cwd: '/tmp' });

describe('TarballOrigins', () => {
  const client = new UpstreamClient(config.upstreams);
  const origins = new TarballOrigins(client, config.policy);
  after(() => client.close());
  const name = (o: ReturnType<TarballOrigins['resolve']>) => ('upstream' in o ? o.upstream.name : `refused: ${o.refused}`);

  it('prefers the rule’s own upstream when several share the origin, so a fast scope’s token is not used', () => {
    assert.equal(name(origins.resolve('https://registry.example/npm/internal/@acme/x/-/x-1.0.0.tgz', 'public')), 'public');
  });

  it('allows another configured upstream that no fast rule uses (a mirror’s tarball host)', () => {
    assert.equal(name(origins.resolve('https://cdn.example/x/-/x-1.0.0.tgz', 'public')), 'tarballs');
  });

  it('refuses the registry of a fast scope for a public rule, and says so', () => {
    assert.equal(name(origins.resolve('https://internal.example/@other/x/-/x-1.0.0.tgz', 'public')), 'refused: dist.tarball is on https://internal.example, but upstream other-internal serves fast-scope names only');
  });

  it('allows a fast scope’s registry for a verify rule that uses it as its own upstream', () => {
    assert.equal(name(origins.resolve('https://internal.example/@own/x/-/x-1.0.0.tgz', 'other-internal')), 'other-internal');
  });

  it('refuses other origins, non-URLs and a missing tarball', () => {
    assert.equal(name(origins.resolve('https://evil.example/x.tgz', 'public')), 'refused: dist.tarball is not on a configured upstream (https://evil.example)');
    assert.equal(name(origins.resolve('/x/-/x-1.0.0.tgz', 'public')), 'refused: dist.tarball is not on a configured upstream (not a URL)');
    assert.equal(name(origins.resolve(undefined, 'public')), 'refused: it has no dist.tarball');
  });
});
