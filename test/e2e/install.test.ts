import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCountersign, type Running } from '../helpers/countersign.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { cleanEnv, makeSandbox, npm, run, toolBin, type Sandbox } from '../helpers/npm-env.js';
import { createRegistryKey } from '../helpers/registry-key.js';

const INTERNAL_TOKEN = 'internal-secret-token-1234';

function installedVersion(dir: string, name: string): string | undefined {
  const file = join(dir, 'node_modules', name, 'package.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version : undefined;
}

function project(box: Sandbox, dependencies: Record<string, string>): void {
  writeFileSync(join(box.dir, 'package.json'), JSON.stringify({ name: 'e2e-app', version: '1.0.0', private: true, dependencies }, null, 2));
}

/** The tree every client installs: scoped and unscoped, three levels, and a fast-scope package. */
const TREE = { 'app-a': '^1.0.0', 'c': '*', '@internal/tool': '^1.0.0' };

describe('real clients through countersign', () => {
  let publicUpstream: FakeRegistry;
  let internal: FakeRegistry;
  let cs: Running;

  before(async () => {
    publicUpstream = await FakeRegistry.start({ key: createRegistryKey() });
    internal = await FakeRegistry.start();
    internal.requiredToken = INTERNAL_TOKEN;
    await publicUpstream.publish([
      { name: 'app-a', version: '1.0.0', dependencies: { '@scope/b': '^1.0.0', c: '^2.0.0' } },
      { name: '@scope/b', version: '1.0.0', dependencies: { d: '^1.0.0' } },
      { name: 'c', version: '2.0.0' },
      { name: 'c', version: '2.1.0', sign: 'invalid' },
      { name: 'd', version: '1.0.0' },
      { name: 'tampered', version: '1.0.0', tamper: true },
      // The public registry has this name too: it must never be used.
      { name: '@internal/ghost', version: '9.9.9' },
    ]);
    await internal.publish([{ name: '@internal/tool', version: '1.0.0', dependencies: { d: '^1.0.0' } }]);
    cs = await startCountersign({
      yaml: `
server:
  dataDir: \${DATA_DIR}
  shutdownGrace: 1s
upstreams:
  npmjs:
    url: ${publicUpstream.url}
    keys: upstream
  internal:
    url: ${internal.url}
    token: \${INTERNAL_TOKEN}
rules:
  - match: ["@internal/*"]
    mode: fast
    upstream: internal
  - match: ["**"]
    upstream: npmjs
    require:
      integrity: sha512
      registrySignature: required
`,
      env: { INTERNAL_TOKEN },
    });
  });

  after(async () => {
    await cs.close();
    await publicUpstream.close();
    await internal.close();
  });

  it('npm installs a scoped and unscoped tree, skipping the badly signed latest', async () => {
    const box = makeSandbox();
    project(box, TREE);
    const result = await npm(box, cs.url, ['install']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(installedVersion(box.dir, 'app-a'), '1.0.0');
    assert.equal(installedVersion(box.dir, '@scope/b'), '1.0.0');
    assert.equal(installedVersion(box.dir, 'd'), '1.0.0');
    assert.equal(installedVersion(box.dir, 'c'), '2.0.0', 'c@2.1.0 has an invalid signature');
    assert.equal(installedVersion(box.dir, '@internal/tool'), '1.0.0');
    const lock = readFileSync(join(box.dir, 'package-lock.json'), 'utf8');
    assert.ok(!lock.includes(publicUpstream.url) && !lock.includes(internal.url), 'every resolved URL points at countersign');
  });

  it('npm sees latest repointed to the highest allowed version', async () => {
    const box = makeSandbox();
    project(box, {});
    const view = await npm(box, cs.url, ['view', 'c', 'dist-tags.latest', 'versions', '--json']);
    assert.equal(view.code, 0, view.stderr);
    const out = JSON.parse(view.stdout) as { 'dist-tags.latest': string; versions: string[] };
    assert.equal(out['dist-tags.latest'], '2.0.0');
    assert.deepEqual(out.versions, ['2.0.0']);
    const explicit = await npm(box, cs.url, ['install', 'c@2.1.0']);
    assert.notEqual(explicit.code, 0, 'the hidden version cannot be installed');
  });

  it('a tampered tarball makes npm install fail with countersign’s reason', async () => {
    const box = makeSandbox();
    project(box, { tampered: '1.0.0' });
    const result = await npm(box, cs.url, ['install']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /does not match its published integrity/);
    assert.equal(installedVersion(box.dir, 'tampered'), undefined);
  });

  it('the fast scope comes from the internal registry with its token, never from the public one', async () => {
    assert.ok(internal.requests.length > 0);
    for (const req of internal.requests) assert.equal(req.headers.authorization, `Bearer ${INTERNAL_TOKEN}`);
    assert.equal(publicUpstream.requestsTo(/internal/).length, 0);
    const box = makeSandbox();
    project(box, { '@internal/ghost': '*' });
    const result = await npm(box, cs.url, ['install']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /404/);
    assert.equal(publicUpstream.requestsTo(/ghost/).length, 0, 'dependency confusion: the public upstream was never asked');
    for (const req of publicUpstream.requests) assert.equal(req.headers.authorization, undefined, 'no credentials to the public upstream');
  });

  it('pnpm installs the same tree', async () => {
    const box = makeSandbox('cs-pnpm-');
    project(box, TREE);
    const result = await run(process.execPath, [
      toolBin('pnpm'), 'install',
      '--registry', cs.url,
      '--store-dir', join(box.cache, 'store'),
      '--cache-dir', join(box.cache, 'pnpm-cache'),
      '--no-frozen-lockfile', '--reporter', 'append-only',
    ], { cwd: box.dir, env: cleanEnv({ HOME: join(box.cache, '..'), npm_config_userconfig: box.npmrc }) });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(installedVersion(box.dir, 'app-a'), '1.0.0');
    assert.equal(installedVersion(box.dir, 'c'), '2.0.0');
    assert.equal(installedVersion(box.dir, '@internal/tool'), '1.0.0');
  });

  it('yarn (classic) installs the same tree', async () => {
    const box = makeSandbox('cs-yarn-');
    project(box, TREE);
    const result = await run(process.execPath, [
      toolBin('yarn'), 'install',
      '--registry', cs.url,
      '--cache-folder', join(box.cache, 'yarn'),
      '--non-interactive', '--no-progress', '--network-timeout', '30000',
    ], { cwd: box.dir, env: cleanEnv({ HOME: join(box.cache, '..') }) });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(installedVersion(box.dir, 'app-a'), '1.0.0');
    assert.equal(installedVersion(box.dir, '@scope/b'), '1.0.0');
    assert.equal(installedVersion(box.dir, 'c'), '2.0.0');
    assert.equal(installedVersion(box.dir, '@internal/tool'), '1.0.0');
  });
});
