import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { createGunzip, gunzipSync, gzipSync, inflateRawSync } from 'node:zlib';
import { MIN_PIECE_BYTES, parallelGzip } from '../../../src/server/parallel-gzip.js';

/** JSON-like text that repeats across piece boundaries (back-references into the dictionary), with some noise. */
function packumentLike(bytes: number): Buffer {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const noise = createHash('sha256').update(String(i)).digest('base64');
    const part = `"1.0.${i}":{"name":"pkg","version":"1.0.${i}","dist":{"integrity":"sha512-${noise}","tarball":"https://registry.example/pkg/-/pkg-1.0.${i}.tgz"}},`;
    parts.push(part);
    size += part.length;
  }
  return Buffer.from(parts.join('')).subarray(0, bytes);
}

async function gunzipStreamed(gz: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const stream = createGunzip();
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => stream.once('end', resolve).once('error', reject));
  // In small writes, as a client reads it off the socket.
  for (let at = 0; at < gz.length; at += 1000) stream.write(gz.subarray(at, at + 1000));
  stream.end();
  await ended;
  return Buffer.concat(chunks);
}

describe('parallelGzip', () => {
  for (const size of [0, 10, 100_000, 2 * MIN_PIECE_BYTES - 1, 2 * MIN_PIECE_BYTES, 2 * MIN_PIECE_BYTES + 1, 5 * MIN_PIECE_BYTES + 12_345]) {
    it(`round-trips ${size} bytes`, async () => {
      const body = packumentLike(size);
      const gz = await parallelGzip(body);
      assert.ok(gunzipSync(gz).equals(body));
      assert.ok((await gunzipStreamed(gz)).equals(body));
    });
  }

  it('writes one gzip member with one deflate stream, framed as zlib frames it', async () => {
    const body = packumentLike(5 * MIN_PIECE_BYTES + 7);
    const gz = await parallelGzip(body);
    const zlibs = gzipSync(body);
    assert.deepEqual(gz.subarray(0, 10), zlibs.subarray(0, 10), 'header');
    assert.deepEqual(gz.subarray(-8), zlibs.subarray(-8), 'CRC-32 and size of the whole body');
    // The pieces form a single deflate stream: a raw inflate of everything between header and
    // trailer gives back the whole body (a second member would carry its own header here).
    assert.ok(inflateRawSync(gz.subarray(10, -8)).equals(body));
  });

  it('compresses about as well as zlib in one piece, and deterministically', async () => {
    const body = packumentLike(6 * MIN_PIECE_BYTES);
    const gz = await parallelGzip(body);
    assert.ok(gz.length <= gzipSync(body).length * 1.01, `${gz.length} against ${gzipSync(body).length}`);
    assert.ok((await parallelGzip(body)).equals(gz));
  });

  it('incompressible bytes still round-trip', async () => {
    const body = Buffer.concat(Array.from({ length: 2 * 32_768 + 1 }, (_, i) => createHash('sha512').update(String(i)).digest()));
    assert.ok(body.length > 2 * MIN_PIECE_BYTES);
    assert.ok(gunzipSync(await parallelGzip(body)).equals(body));
  });
});
