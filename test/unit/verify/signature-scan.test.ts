import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scanSignatures } from '../../../src/verify/signature-scan.js';

const INTEGRITY = (n: number) => `sha512-${Buffer.alloc(64, n).toString('base64')}`;

/** A compact packument as the registry writes it: manifests with `version` first, `dist.signatures` last. */
function packument(count: number, keyid = 'SHA256:k1'): { bytes: Buffer; expected: string[] } {
  const versions: Record<string, unknown> = {};
  const expected: string[] = [];
  for (let i = 0; i < count; i++) {
    const version = `1.0.${i}`;
    const sig = `MEUCIQ${i}sig==`;
    versions[version] = {
      name: 'pkg',
      version,
      dependencies: { dep: '^1.0.0' },
      dist: { integrity: INTEGRITY(i), shasum: 'a'.repeat(40), tarball: `https://r/pkg/-/pkg-${version}.tgz`, signatures: [{ keyid, sig }] },
    };
    expected.push(`pkg@${version}:${INTEGRITY(i)}|${sig}`);
  }
  return { bytes: Buffer.from(JSON.stringify({ _id: 'pkg', name: 'pkg', 'dist-tags': {}, versions })), expected };
}

const found = (bytes: Buffer, from?: number, to?: number) =>
  scanSignatures(bytes, 'pkg', ['SHA256:other', 'SHA256:k1'], from, to).map((f) => `${f.message}|${f.sig}`);

describe('scanSignatures', () => {
  it('finds every version signature of a compact packument, with its message and key', () => {
    const { bytes, expected } = packument(50);
    assert.deepEqual(found(bytes), expected);
    const [first] = scanSignatures(bytes, 'pkg', ['SHA256:other', 'SHA256:k1']);
    assert.equal(first?.keyIndex, 1);
  });

  it('splits by byte ranges without losing or repeating a signature', () => {
    const { bytes, expected } = packument(40);
    for (const parts of [2, 3, 7]) {
      const step = Math.ceil(bytes.length / parts);
      const all = Array.from({ length: parts }, (_, i) => found(bytes, i * step, Math.min(bytes.length, (i + 1) * step))).flat();
      assert.deepEqual(all, expected, `${parts} parts`);
    }
  });

  it('skips signatures by keys it was not given', () => {
    const { bytes } = packument(5, 'SHA256:unknown');
    assert.deepEqual(found(bytes), []);
  });

  it('misreads unusual layouts without failing: the caller then verifies from the parsed document', () => {
    // `version` after `dist`, and a decoy `version` in between: the scan reads the wrong message.
    const odd = Buffer.from(
      JSON.stringify({ versions: { '2.0.0': { dist: { integrity: INTEGRITY(1), signatures: [{ keyid: 'SHA256:k1', sig: 's1' }] }, version: '2.0.0' }, '2.0.1': { name: 'pkg', version: '2.0.1', config: { version: '9.9.9' }, dist: { integrity: INTEGRITY(2), signatures: [{ keyid: 'SHA256:k1', sig: 's2' }] } } } }),
    );
    assert.deepEqual(found(odd), [`pkg@9.9.9:${INTEGRITY(2)}|s2`]);
  });

  it('skips escaped values, pretty-printed JSON, unterminated and oversized arrays', () => {
    const escaped = Buffer.from(`{"versions":{"1.0.0":{"version":"1.0.0","dist":{"integrity":"sha512-a\\/b","signatures":[{"keyid":"SHA256:k1","sig":"s"}]}}}}`);
    assert.deepEqual(found(escaped), []);
    const pretty = Buffer.from(JSON.stringify(JSON.parse(packument(3).bytes.toString()), null, 2));
    assert.deepEqual(found(pretty), []);
    assert.deepEqual(found(Buffer.from('{"version":"1.0.0","integrity":"x","signatures":[{"keyid":"SHA256:k1"')), []);
    const huge = Buffer.from(`{"version":"1","integrity":"x","signatures":[${'{"keyid":"SHA256:k1","sig":"s"},'.repeat(200)}{"keyid":"SHA256:k1","sig":"s"}]}`);
    assert.deepEqual(found(huge), []);
    assert.deepEqual(found(Buffer.from('{"version":"1","integrity":"x","signatures":[1,null,"a",{"keyid":"SHA256:k1","sig":5}]}')), []);
  });

  it('reads each byte a bounded number of times on hostile input (many arrays, no fields)', () => {
    const unclosed = Buffer.from(`${'"version":"1","integrity":"x","signatures":['.repeat(50_000)}]`);
    const noise = Buffer.from('"signatures":[],'.repeat(200_000));
    assert.deepEqual(found(unclosed), []);
    assert.deepEqual(found(unclosed, unclosed.length >> 1), []);
    assert.deepEqual(found(noise), []);
  });
});
