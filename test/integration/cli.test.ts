import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { countersign } from '../helpers/cli.js';
import { startCountersign, type Running } from '../helpers/countersign.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { createRegistryKey } from '../helpers/registry-key.js';
import { packTarballs } from '../helpers/tarballs.js';
import { ADMIN_TOKEN, api } from '../helpers/trust-api.js';

const PKG = { name: 'cli-audited', version: '1.0.0' };

function yaml(upstreamUrl: string): string {
  return `
server:
  dataDir: \${DATA_DIR}
  shutdownGrace: 1s
upstreams:
  npmjs: { url: ${upstreamUrl}, keys: upstream }
rules:
  - match: ["cli-*"]
    require:
      audits: { min: 1 }
  - match: ["pub-*"]
    require:
      publisherSignature: required
  - match: ["**"]
    require: { registrySignature: required }
`;
}

describe('countersign CLI', () => {
  let upstream: FakeRegistry;
  let cs: Running;
  let work: string;
  let env: Record<string, string>;
  let publicKey = '';
  let keyid = '';

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'cs-cli-'));
    upstream = await FakeRegistry.start({ key: createRegistryKey() });
    await upstream.publish([PKG, { name: 'cli-audited', version: '1.1.0' }, { name: 'cli-base', version: '2.0.0' }, { name: 'pub-lib', version: '1.0.0' }]);
    cs = await startCountersign({ yaml: yaml(upstream.url), appOptions: { adminToken: ADMIN_TOKEN } });
    env = { COUNTERSIGN_URL: cs.url, COUNTERSIGN_KEY: join(work, 'alice.key'), HOME: work };
  });

  after(async () => {
    await cs?.close();
    await upstream?.close();
    rmSync(work, { recursive: true, force: true });
  });

  const cli = (args: string[], extra: Record<string, string> = {}) => countersign(args, { cwd: work, env: { ...env, ...extra } });

  it('keygen writes a 0600 key file, prints the public key and keyid, and never overwrites', async () => {
    const r = await cli(['keygen']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(join(work, 'alice.key')).mode & 0o777, 0o600);
    publicKey = /public key: (\S+)/.exec(r.stdout)![1]!;
    keyid = /keyid: +(ed25519:[0-9a-f]{64})/.exec(r.stdout)![1]!;
    assert.match(r.stdout, /countersign keys add --public-key/);
    const again = await cli(['keygen']);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already exists; keep it, or pass --force/);
  });

  it('keys add needs the admin token for a remote server, and enrols with it', async () => {
    const denied = await cli(['keys', 'add', '--public-key', publicKey, '--principal', 'acme/alice']);
    assert.equal(denied.code, 2);
    assert.match(denied.stderr, /set COUNTERSIGN_ADMIN_TOKEN/);
    const wrong = await cli(['keys', 'add', '--public-key', publicKey, '--principal', 'acme/alice'], { COUNTERSIGN_ADMIN_TOKEN: 'wrong-token-wrong-token' });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /needs the admin token/);
    const ok = await cli(['keys', 'add', '--public-key', publicKey, '--principal', 'acme/alice', '--role', 'audit', '--role', 'publish', '--valid-for', '30d'], { COUNTERSIGN_ADMIN_TOKEN: ADMIN_TOKEN });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`enrolled ${keyid} for acme/alice: roles audit, publish`));
    const list = await cli(['keys', 'list'], { COUNTERSIGN_ADMIN_TOKEN: ADMIN_TOKEN });
    assert.match(list.stdout, /^valid +acme\/alice/m);
  });

  it('status exits 1 for a hidden version; audit signs and submits; then status exits 0', async () => {
    const hidden = await cli(['status', `${PKG.name}@${PKG.version}`]);
    assert.equal(hidden.code, 1);
    assert.match(hidden.stdout, /cli-audited@1\.0\.0: HIDDEN/);
    assert.match(hidden.stdout, /FAIL audits +0 of 1 audits/);
    const audited = await cli(['audit', `${PKG.name}@${PKG.version}`, '--notes', 'read every file']);
    assert.equal(audited.code, 0, audited.stderr);
    assert.match(audited.stdout, /accepted: full audit \(safe-to-deploy\) of cli-audited@1\.0\.0/);
    assert.match(audited.stdout, /is now served/);
    const served = await cli(['status', `${PKG.name}@${PKG.version}`]);
    assert.equal(served.code, 0);
    assert.match(served.stdout, /\+ acme\/alice +full \(safe-to-deploy\) first seen .*: counts/);
  });

  it('refuses a key file that others can read, and says how to fix it', async () => {
    chmodSync(join(work, 'alice.key'), 0o644);
    const r = await cli(['audit', 'cli-base@2.0.0']);
    chmodSync(join(work, 'alice.key'), 0o600);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /readable by other users \(mode 644\); run chmod 600/);
  });

  it('an audit by a key that is not enrolled fails verification with exit 1', async () => {
    const stranger = join(work, 'stranger.key');
    assert.equal((await cli(['keygen', '--out', stranger])).code, 0);
    const r = await cli(['audit', 'cli-base@2.0.0', '--key', stranger]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is not enrolled here; send its public key/);
  });

  it('sign makes a publisher signature for a local tarball; submit sends it', async () => {
    const tgz = (await packTarballs([{ name: 'pub-lib', version: '1.0.0' }])).get('pub-lib@1.0.0')!;
    writeFileSync(join(work, 'pub-lib-1.0.0.tgz'), tgz);
    assert.equal((await fetch(new URL('/pub-lib', cs.url), { headers: { accept: 'application/json' } })).status, 403);
    const signed = await cli(['sign', 'pub-lib-1.0.0.tgz', '--out', 'pub-lib.sig.json']);
    assert.equal(signed.code, 0, signed.stderr);
    assert.match(signed.stderr, /signed pub-lib@1\.0\.0 \(sha512-/);
    const sent = await cli(['submit', 'pub-lib.sig.json']);
    assert.equal(sent.code, 0, sent.stdout);
    assert.match(sent.stdout, /pub-lib.sig.json: accepted \(publish pub-lib@1\.0\.0\)/);
    assert.equal((await fetch(new URL('/pub-lib', cs.url), { headers: { accept: 'application/json' } })).status, 200);
  });

  it('baseline on the server data dir exempts the lockfile versions; the running server picks it up', async () => {
    const shaBase = ((await api(cs.url, 'GET', '/-/countersign/v1/status/cli-base/2.0.0')).body.integrity as string);
    writeFileSync(join(work, 'package-lock.json'), JSON.stringify({
      name: 'app',
      lockfileVersion: 3,
      packages: {
        '': { name: 'app' },
        'node_modules/cli-base': { version: '2.0.0', resolved: `${upstream.url}cli-base/-/cli-base-2.0.0.tgz`, integrity: shaBase },
        'node_modules/local-thing': { version: '1.0.0', resolved: 'file:../local-thing' },
        'node_modules/linked': { link: true, resolved: '../linked' },
      },
    }));
    const r = await cli(['baseline', 'package-lock.json', '--data-dir', cs.dataDir, '--expires', '7d']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /exempted 1 versions from package-lock.json until/);
    assert.match(r.stderr, /skipped node_modules\/local-thing: not from a registry/);
    const started = Date.now();
    let status = 0;
    while (Date.now() - started < 5_000) {
      status = (await fetch(new URL('/cli-base', cs.url), { headers: { accept: 'application/json' } })).status;
      if (status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(status, 200, 'served within the refresh interval');
  });

  it('queue lists hidden versions that were asked for', async () => {
    const empty = await cli(['queue']);
    assert.equal(empty.code, 0);
    assert.equal((await fetch(new URL('/cli-audited/-/cli-audited-1.1.0.tgz', cs.url))).status, 403);
    const r = await cli(['queue']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /1 +1 +cli-audited@1\.1\.0 +audits +1\.0\.0 \(countersign audit cli-audited@1\.1\.0 --delta-from 1\.0\.0\)/);
  });

  it('export from the server, import elsewhere line by line, and store verify', async () => {
    const exported = await cli(['export', '--out', 'docs.jsonl']);
    assert.equal(exported.code, 0, exported.stderr);
    const lines = readFileSync(join(work, 'docs.jsonl'), 'utf8').trim().split('\n');
    assert.equal(lines.length, 2, 'the audit and the publisher signature');
    writeFileSync(join(work, 'mixed.jsonl'), `${lines[0]}\n{"broken": true}\n${lines[1]}\n`);

    const other = join(work, 'other-data');
    assert.equal((await cli(['keys', 'add', '--data-dir', other, '--public-key', publicKey, '--principal', 'acme/alice', '--role', 'audit'])).code, 0);
    const imported = await cli(['import', 'mixed.jsonl', '--data-dir', other]);
    assert.equal(imported.code, 1, 'one line was refused');
    assert.match(imported.stdout, /mixed\.jsonl:2: skipped: .* \[ECS_DOCUMENT_INVALID\]/);
    assert.match(imported.stdout, /mixed\.jsonl:3: skipped: .*not enrolled for the publish role.*\[ECS_KEY_NOT_VALID\]/);
    assert.match(imported.stdout, /imported 1 documents, 0 already present, 2 refused/);

    const verified = await cli(['store', 'verify', '--data-dir', other]);
    assert.equal(verified.code, 0, verified.stdout);
    const head = /head (\d+:[0-9a-f]{64})/.exec(verified.stdout)![1]!;
    assert.equal((await cli(['store', 'verify', '--data-dir', other, '--anchor', head])).code, 0);
    const db = new Database(join(other, 'trust.db'));
    db.exec('DROP TRIGGER entries_no_update');
    db.prepare('UPDATE entries SET seen_at = seen_at + 1 WHERE seq = 2').run();
    db.close();
    const broken = await cli(['store', 'verify', '--data-dir', other]);
    assert.equal(broken.code, 1);
    assert.match(broken.stdout, /FAILED: .*\n +entry 2 was edited/);
  });

  it('answers usage errors with exit 2 and what to do', async () => {
    for (const [args, message] of [
      [['nope'], /unknown command "nope"/],
      [['audit', 'left-pad'], /give an exact version/],
      [['keys', 'frob'], /expected add, list or revoke/],
      [['store', 'verify'], /pass --data-dir DIR or --config FILE/],
      [['keys', 'list', '--data-dir', join(work, 'missing')], /no trust store at .*pass the server's --data-dir/],
    ] as const) {
      const r = await cli([...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });
});
