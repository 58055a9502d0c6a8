import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { SignaturePool, verifyInline } from '../../../src/verify/signature-pool.js';
import type { StreamingScan } from '../../../src/verify/streaming-scan.js';
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
    versions[version] = { name: 'pkg', version, description: 'd'.repeat(1400), dist: { integrity, signatures: [{ keyid: keys[0]!.keyid, sig }] } };
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

  /** Feeds `bytes` to a scan in chunks of the given sizes (cycled), as a body would arrive. */
  function feed(scan: StreamingScan, bytes: Buffer, sizes: readonly number[]): Promise<Array<{ key: string; message: string; valid: boolean }>> {
    for (let at = 0, i = 0; at < bytes.length; i++) {
      const size = sizes[i % sizes.length]!;
      scan.push(bytes.subarray(at, at + size));
      at += size;
    }
    return scan.finish();
  }

  const MAX_BODY = 8 * 1024 * 1024;

  it('holds the body it is fed in shared memory, up to its cap', () => {
    const scan = pool({ size: 1 }).streamScan('pkg', Promise.resolve(SCAN_KEYS), MAX_BODY, 10)!;
    scan.push(Buffer.from('{"a":'));
    const before = scan.bytes;
    scan.push(Buffer.from('1}'));
    assert.equal(before.toString(), '{"a":', 'a body handed out does not change with later pushes');
    assert.equal(scan.bytes.toString(), '{"a":1}');
    assert.ok(scan.bytes.buffer instanceof SharedArrayBuffer);
    assert.throws(() => scan.push(Buffer.from('xxxx')), /10-byte cap/);
  });

  const unique = (found: ReadonlyArray<{ message: string; valid: boolean }>) => [...new Set(found.map((f) => `${f.message} ${f.valid}`))].sort();

  it('scans a body as it arrives, on the workers, and verifies what it finds', async () => {
    // ~2.4 MB: three jobs, with signatures arrays cut by the chunk and job boundaries.
    const { bytes, expected } = signedPackument(1500);
    assert.ok(bytes.length > 2 * 1024 * 1024);
    for (const [size, sizes] of [[1, [65_536]], [2, [16_384, 1, 777, 100_000]], [3, [3 * 1024 * 1024]]] as const) {
      const scan = pool({ size }).streamScan('pkg', Promise.resolve(SCAN_KEYS), 256 * 1024, MAX_BODY)!;
      const found = await feed(scan, bytes, sizes);
      assert.ok(scan.bytes.equals(bytes), 'the scan holds the whole body for the caller');
      assert.deepEqual(unique(found), [...expected].sort(), `${size} workers, chunks of ${sizes.join('/')}`);
      assert.ok(found.every((f) => f.key === keys[0]!.publicKeyDerBase64));
      // A signature read by two jobs (at a boundary) has one result.
      assert.equal(new Set(found.map((f) => f.message)).size, unique(found).length);
    }
  });

  it('leaves a body under minBytes alone, and starts no worker for it', async () => {
    const { bytes } = signedPackument(20);
    const p = pool({ size: 2 });
    assert.deepEqual(await feed(p.streamScan('pkg', Promise.resolve(SCAN_KEYS), bytes.length + 1, MAX_BODY)!, bytes, [1000]), []);
    assert.equal(p.threads, 0);
    assert.equal(unique(await feed(p.streamScan('pkg', Promise.resolve(SCAN_KEYS), bytes.length, MAX_BODY)!, bytes, [1000])).length, 20);
  });

  it('a scan finds nothing without keys or workers, or from a worker that fails or lies', async () => {
    const { bytes } = signedPackument(20);
    const closed = pool({ size: 1 });
    await closed.close();
    assert.equal(closed.streamScan('pkg', Promise.resolve(SCAN_KEYS), 0, MAX_BODY), undefined);
    assert.deepEqual(await feed(pool({ size: 1 }).streamScan('pkg', Promise.resolve([]), 0, MAX_BODY)!, bytes, [500]), [], 'no keys');
    assert.deepEqual(await feed(pool({ size: 1 }).streamScan('pkg', Promise.reject(new Error('no keys today')), 0, MAX_BODY)!, bytes, [500]), [], 'keys failed');
    const errors: Error[] = [];
    const liar = workerScript(
      "import { parentPort } from 'node:worker_threads'; parentPort.on('message', (m) => parentPort.postMessage({ id: m.id, results: [true], found: [{ keyIndex: 7, message: 'x', sig: 'y' }] }));",
    );
    assert.deepEqual(await feed(pool({ size: 2, workerUrl: liar, onWorkerError: (err) => errors.push(err) }).streamScan('pkg', Promise.resolve(SCAN_KEYS), 0, MAX_BODY)!, bytes, [500]), []);
    assert.match(errors[0]?.message ?? '', /malformed answer/);
    const crashing = workerScript("import { parentPort } from 'node:worker_threads'; parentPort.on('message', () => process.exit(3));");
    assert.deepEqual(await feed(pool({ size: 1, workerUrl: crashing }).streamScan('pkg', Promise.resolve(SCAN_KEYS), 0, MAX_BODY)!, bytes, [500]), []);
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
