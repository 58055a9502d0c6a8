import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { SignaturePool, sharedCopy, verifyInline } from '../../../src/verify/signature-pool.js';
import type { P256Task } from '../../../src/verify/types.js';
import { createRegistryKey } from '../../helpers/registry-key.js';

const keys = [createRegistryKey(), createRegistryKey()];

/** Valid signatures mixed with every kind of invalid one, in a fixed pattern. */
function mixedTasks(count: number): P256Task[] {
  return Array.from({ length: count }, (_, i) => {
    const key = keys[i % 2]!;
    const message = `pkg-${i}@1.0.0:sha512-${i}`;
    const sig = key.signMessage(message);
    switch (i % 6) {
      case 1:
        return { key: key.publicKeyDerBase64, message: `${message}x`, sig };
      case 3:
        return { key: keys[(i + 1) % 2]!.publicKeyDerBase64, message, sig };
      case 5:
        return { key: key.publicKeyDerBase64, message, sig: i % 12 === 5 ? 'garbage!' : sig.slice(0, -4) };
      default:
        return { key: i === 4 ? 'not a key' : key.publicKeyDerBase64, message, sig };
    }
  });
}

const TASKS = mixedTasks(600);
const EXPECTED = verifyInline(TASKS);

/** A compact packument of `count` versions signed by keys[0], every fifth signature forged. */
function signedPackument(count: number): { bytes: Buffer; expected: string[] } {
  const versions: Record<string, unknown> = {};
  const expected: string[] = [];
  for (let i = 0; i < count; i++) {
    const version = `1.0.${i}`;
    const integrity = `sha512-${Buffer.alloc(64, i).toString('base64')}`;
    const message = `pkg@${version}:${integrity}`;
    const sig = keys[0]!.signMessage(i % 5 === 4 ? `${message}-forged` : message);
    versions[version] = { name: 'pkg', version, description: 'd'.repeat(150), dist: { integrity, signatures: [{ keyid: keys[0]!.keyid, sig }] } };
    expected.push(`${message} ${i % 5 !== 4}`);
  }
  return { bytes: Buffer.from(JSON.stringify({ name: 'pkg', versions })), expected };
}

const SCAN_KEYS = [{ keyid: keys[1]!.keyid, key: keys[1]!.publicKeyDerBase64 }, { keyid: keys[0]!.keyid, key: keys[0]!.publicKeyDerBase64 }];

function workerScript(source: string): URL {
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

describe('SignaturePool', () => {
  const pools: SignaturePool[] = [];
  const pool = (options: ConstructorParameters<typeof SignaturePool>[0]) => {
    const p = new SignaturePool(options);
    pools.push(p);
    return p;
  };
  after(() => Promise.all(pools.map((p) => p.close())));

  it('verifies the mix as expected inline', () => {
    assert.equal(EXPECTED.filter(Boolean).length, 600 / 2 - 1, 'cases 0, 2 and 4 are valid, except the bad key at i = 4');
  });

  it('runs small batches inline without starting workers', async () => {
    const p = pool({ size: 2 });
    assert.deepEqual(await p.verifyMany(TASKS.slice(0, 63)), EXPECTED.slice(0, 63));
    assert.deepEqual(await p.verifyMany([]), []);
    assert.equal(p.threads, 0);
  });

  for (const options of [{ size: 1 }, { size: 2 }, { size: 2, callerShare: true }, { size: 3, callerShare: false }]) {
    it(`gives the inline answers in parallel with ${JSON.stringify(options)}`, async () => {
      const p = pool(options);
      const [first, second] = await Promise.all([p.verifyMany(TASKS), p.verifyMany(TASKS.slice(100, 400))]);
      assert.deepEqual(first, EXPECTED);
      assert.deepEqual(second, EXPECTED.slice(100, 400));
      assert.equal(p.threads, options.size);
      assert.deepEqual(await p.verifyMany(TASKS.slice(7, 71)), EXPECTED.slice(7, 71), 'odd chunk sizes');
    });
  }

  it('starts workers on demand, and verifies inline after close()', async () => {
    const p = pool({ size: 2 });
    p.start();
    assert.equal(p.threads, 2);
    assert.deepEqual(await p.verifyMany(TASKS), EXPECTED);
    await p.close();
    assert.equal(p.threads, 0);
    assert.deepEqual(await p.verifyMany(TASKS), EXPECTED);
    await p.close();
  });

  it('finishes chunks inline when a worker crashes, and gives up on workers after repeated crashes', async () => {
    const errors: Error[] = [];
    const crashing = workerScript("import { parentPort } from 'node:worker_threads'; parentPort.on('message', () => process.exit(3));");
    const p = pool({ size: 1, workerUrl: crashing, onWorkerError: (err) => errors.push(err) });
    for (let i = 0; i < 4; i++) assert.deepEqual(await p.verifyMany(TASKS), EXPECTED);
    assert.equal(errors.length, 3);
    assert.match(errors[0]!.message, /exited with code 3/);
    assert.equal(p.threads, 0);
  });

  it('does not trust a worker that answers the wrong shape', async () => {
    const errors: Error[] = [];
    const liar = workerScript("import { parentPort } from 'node:worker_threads'; parentPort.on('message', (m) => parentPort.postMessage({ id: m.id, results: [true] }));");
    const p = pool({ size: 2, workerUrl: liar, onWorkerError: (err) => errors.push(err) });
    assert.deepEqual(await p.verifyMany(TASKS), EXPECTED);
    assert.match(errors[0]?.message ?? '', /malformed answer/);
  });

  it('finishes chunks inline when the worker script cannot load', async () => {
    const p = pool({ size: 1, workerUrl: new URL('./no-such-worker.js', import.meta.url) });
    assert.deepEqual(await p.verifyMany(TASKS), EXPECTED);
  });

  it('scans raw packument bytes on the workers and verifies what it finds', async () => {
    // ~700 KB: the workers claim ranges of 64 KB or more, in whatever order they get to them.
    const { bytes, expected } = signedPackument(1500);
    assert.ok(bytes.length > 10 * 64 * 1024);
    for (const size of [1, 2, 3]) {
      const p = pool({ size });
      for (const input of [bytes, sharedCopy(bytes)]) {
        const found = await p.scan(input, 'pkg', SCAN_KEYS);
        assert.deepEqual(found.map((f) => `${f.message} ${f.valid}`).sort(), [...expected].sort(), `${size} workers`);
        assert.ok(found.every((f) => f.key === keys[0]!.publicKeyDerBase64));
      }
    }
  });

  it('scan finds nothing without workers, and nothing from a worker that fails or lies', async () => {
    const { bytes } = signedPackument(20);
    const closed = pool({ size: 1 });
    await closed.close();
    assert.deepEqual(await closed.scan(bytes, 'pkg', SCAN_KEYS), []);
    assert.deepEqual(await pool({ size: 1 }).scan(bytes, 'pkg', []), [], 'no keys');
    const errors: Error[] = [];
    const liar = workerScript(
      "import { parentPort } from 'node:worker_threads'; parentPort.on('message', (m) => parentPort.postMessage({ id: m.id, results: [true], found: [{ keyIndex: 7, message: 'x', sig: 'y' }] }));",
    );
    assert.deepEqual(await pool({ size: 2, workerUrl: liar, onWorkerError: (err) => errors.push(err) }).scan(bytes, 'pkg', SCAN_KEYS), []);
    assert.match(errors[0]?.message ?? '', /malformed answer/);
    const crashing = workerScript("import { parentPort } from 'node:worker_threads'; parentPort.on('message', () => process.exit(3));");
    assert.deepEqual(await pool({ size: 1, workerUrl: crashing }).scan(bytes, 'pkg', SCAN_KEYS), []);
  });

  it('does not keep the process alive when it is not closed', () => {
    const poolUrl = new URL('../../../src/verify/signature-pool.js', import.meta.url).href;
    const script = `
      import { generateKeyPairSync, sign } from 'node:crypto';
      import { SignaturePool } from ${JSON.stringify(poolUrl)};
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const key = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
      const tasks = Array.from({ length: 200 }, (_, i) => ({ key, message: String(i), sig: sign('sha256', Buffer.from(String(i)), privateKey).toString('base64') }));
      const results = await new SignaturePool({ size: 1 }).verifyMany(tasks);
      console.log(results.filter(Boolean).length);
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(child.stderr, '');
    assert.equal(child.status, 0);
    assert.equal(child.stdout.trim(), '200');
  });
});
