import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseEnvelope } from '../../src/trust/dsse.js';
import { documentId } from '../../src/trust/events.js';
import { verifyStore } from '../../src/trust/verify-store.js';
import { startServeProcess } from '../helpers/serve-process.js';
import { ADMIN_TOKEN, api } from '../helpers/trust-api.js';
import { auditEnvelope, enrolment, sha512Hex, testSigner } from '../helpers/trust-sign.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function setUp(): { dataDir: string; config: string } {
  const root = mkdtempSync(join(tmpdir(), 'cs-durable-'));
  dirs.push(root);
  const dataDir = join(root, 'data');
  const config = join(root, 'countersign.yaml');
  writeFileSync(config, `
server:
  host: 127.0.0.1
  port: 0
  dataDir: ${dataDir}
  shutdownGrace: 1s
log:
  level: info
upstreams:
  npmjs: { url: "http://127.0.0.1:9/", keys: none }
trust:
  submissionsPerMinute: 0
rules:
  - match: ["**"]
    require: { registrySignature: off, audits: { min: 1 } }
`);
  return { dataDir, config };
}

function idOf(line: string): string {
  return documentId(parseEnvelope(Buffer.from(line), 1 << 20));
}

describe('trust store durability', () => {
  it('loses no acknowledged document when the server is SIGKILLed during a burst, and the chain verifies', async (t) => {
    const { dataDir, config } = setUp();
    const first = startServeProcess(config, { COUNTERSIGN_ADMIN_TOKEN: ADMIN_TOKEN });
    const url = await first.url;
    const alice = testSigner('acme/alice');
    assert.equal((await api(url, 'POST', '/-/countersign/v1/keys', { token: ADMIN_TOKEN, body: enrolment(alice) })).status, 201);

    const envelopes = Array.from({ length: 400 }, (_, i) => auditEnvelope(alice, { name: 'burst', version: `1.0.${i}`, sha512: sha512Hex(`burst ${i}`) }));
    const acknowledged = new Set<string>();
    let failures = 0;
    let next = 0;
    let killed = false;
    const worker = async () => {
      while (next < envelopes.length) {
        const envelope = envelopes[next++]!;
        try {
          const res = await fetch(new URL('/-/countersign/v1/documents', url), { method: 'POST', body: envelope, headers: { 'content-type': 'application/json' } });
          if (res.status === 201) acknowledged.add(((await res.json()) as { id: string }).id);
          else failures++;
        } catch {
          failures++;
        }
        if (!killed && acknowledged.size >= 80) {
          killed = true;
          first.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    const exit = await first.exited;
    assert.equal(exit.signal, 'SIGKILL');
    assert.ok(acknowledged.size >= 80, `${acknowledged.size} acknowledged`);
    assert.ok(failures > 0, 'the kill interrupted the burst');
    t.diagnostic(`${acknowledged.size} acknowledged, ${failures} refused or cut by SIGKILL`);

    const second = startServeProcess(config, { COUNTERSIGN_ADMIN_TOKEN: ADMIN_TOKEN });
    try {
      const restarted = await second.url;
      const exported = await (await fetch(new URL('/-/countersign/v1/documents?name=burst', restarted))).text();
      const stored = new Set(exported.trim().split('\n').filter(Boolean).map(idOf));
      const lost = [...acknowledged].filter((id) => !stored.has(id));
      assert.deepEqual(lost, [], 'every acknowledged document survived');
    } finally {
      second.child.kill('SIGTERM');
      const stopped = await second.exited;
      assert.equal(stopped.code, 0, second.output());
    }
    const report = verifyStore(dataDir);
    assert.deepEqual(report.problems, []);
    assert.ok(report.documents >= acknowledged.size);
  });

  it('stops at start-up on a corrupt trust.db with a clear error, and leaves the file alone', async () => {
    const { dataDir, config } = setUp();
    const first = startServeProcess(config);
    await first.url;
    first.child.kill('SIGTERM');
    await first.exited;
    const file = join(dataDir, 'trust.db');
    const bytes = readFileSync(file);
    // Smash the first page (the SQLite header and schema).
    bytes.fill(0x41, 0, 4096);
    writeFileSync(file, bytes);
    rmSync(`${file}-wal`, { force: true });
    rmSync(`${file}-shm`, { force: true });

    const second = startServeProcess(config);
    const exit = await second.exited;
    assert.equal(exit.code, 1);
    assert.match(second.output(), /countersign: the trust store .*trust\.db is unusable: .*restore trust.db from a backup/);
    assert.deepEqual(readFileSync(file), bytes, 'not replaced by an empty store');
  });
});
