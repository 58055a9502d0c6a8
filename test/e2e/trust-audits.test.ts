import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { countersign } from '../helpers/cli.js';
import { startCountersign, type Running } from '../helpers/countersign.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { makeSandbox, npm, type Sandbox } from '../helpers/npm-env.js';
import { createRegistryKey } from '../helpers/registry-key.js';
import { ADMIN_TOKEN, api } from '../helpers/trust-api.js';

const PKG = 'reviewed-pkg';

/**
 * The whole loop with the real npm CLI: a version that needs two audits is not installable; two
 * auditors run `countersign audit`; it installs; one auditor's key is revoked; it is hidden again.
 */
describe('e2e: audits with the real npm CLI', () => {
  let upstream: FakeRegistry;
  let cs: Running;
  const boxes: Sandbox[] = [];

  function sandbox(): Sandbox {
    const box = makeSandbox('cs-e2e-trust-');
    boxes.push(box);
    writeFileSync(join(box.dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    return box;
  }

  before(async () => {
    upstream = await FakeRegistry.start({ key: createRegistryKey() });
    await upstream.publish([{ name: PKG, version: '1.0.0' }]);
    cs = await startCountersign({
      yaml: `
server:
  dataDir: \${DATA_DIR}
  shutdownGrace: 1s
upstreams:
  npmjs: { url: "${upstream.url}", keys: upstream }
rules:
  - match: ["reviewed-*"]
    require:
      audits: { min: 2, criteria: safe-to-deploy }
  - match: ["**"]
    require: { registrySignature: required }
`,
      appOptions: { adminToken: ADMIN_TOKEN },
    });
  });

  after(async () => {
    await cs?.close();
    await upstream?.close();
    for (const box of boxes) rmSync(dirname(box.dir), { recursive: true, force: true });
  });

  it('installs a version only while two unrevoked auditors vouch for it', async () => {
    const blocked = await npm(sandbox(), cs.url, ['install', `${PKG}@1.0.0`]);
    assert.notEqual(blocked.code, 0, 'not installable before the audits');
    assert.match(blocked.stderr, /403 Forbidden .* all 1 versions of reviewed-pkg are hidden .*1 × audits/);

    const auditors = sandbox();
    const keyids: string[] = [];
    for (const who of ['alice', 'bob']) {
      const keyFile = join(auditors.dir, `${who}.key`);
      const made = await countersign(['keygen', '--out', keyFile], { cwd: auditors.dir });
      assert.equal(made.code, 0, made.stderr);
      const publicKey = /public key: (\S+)/.exec(made.stdout)![1]!;
      keyids.push(/keyid: +(\S+)/.exec(made.stdout)![1]!);
      assert.equal((await api(cs.url, 'POST', '/-/countersign/v1/keys', { token: ADMIN_TOKEN, body: { publicKey, principal: `acme/${who}`, roles: ['audit'] } })).status, 201);
      const audited = await countersign(['audit', `${PKG}@1.0.0`, '--key', keyFile, '--registry', cs.url], { cwd: auditors.dir });
      assert.equal(audited.code, 0, audited.stderr);
      assert.match(audited.stdout, who === 'alice' ? /still hidden: 1 of 2 audits/ : /is now served/);
    }

    const installer = sandbox();
    const installed = await npm(installer, cs.url, ['install', `${PKG}@1.0.0`]);
    assert.equal(installed.code, 0, installed.stderr);
    const manifest = JSON.parse(readFileSync(join(installer.dir, 'node_modules', PKG, 'package.json'), 'utf8')) as { version: string };
    assert.equal(manifest.version, '1.0.0');

    const revoked = await countersign(['keys', 'revoke', keyids[1]!, '--reason', 'laptop stolen', '--registry', cs.url], { cwd: auditors.dir, env: { COUNTERSIGN_ADMIN_TOKEN: ADMIN_TOKEN } });
    assert.equal(revoked.code, 0, revoked.stderr);

    const again = await npm(sandbox(), cs.url, ['install', `${PKG}@1.0.0`]);
    assert.notEqual(again.code, 0, 'hidden again once one auditor is revoked');
    assert.match(again.stderr, /403 Forbidden .* all 1 versions of reviewed-pkg are hidden/);

    // A lockfile install (the tarball URL straight from package-lock.json) is refused too.
    const ci = sandbox();
    copyFileSync(join(installer.dir, 'package.json'), join(ci.dir, 'package.json'));
    copyFileSync(join(installer.dir, 'package-lock.json'), join(ci.dir, 'package-lock.json'));
    const fromLock = await npm(ci, cs.url, ['ci']);
    assert.notEqual(fromLock.code, 0);
    assert.match(fromLock.stderr, /403/);

    const queue = await api(cs.url, 'GET', '/-/countersign/v1/queue');
    const entry = (queue.body.entries as Array<{ name: string; version: string; requests: number }>).find((e) => e.name === PKG);
    assert.ok(entry && entry.version === '1.0.0' && entry.requests >= 2, 'the refused installs put it in the audit queue');
  });
});
