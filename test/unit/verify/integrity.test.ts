import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { expectedDigest, IntegrityHasher, integrityFormatCheck, sha1HexOf, sha512HexOf } from '../../../src/verify/integrity.js';
import { sha512Integrity, testVersionFacts } from '../../helpers/registry-key.js';

const BODY = Buffer.from('the tarball bytes');
const SHA512_HEX = createHash('sha512').update(BODY).digest('hex');
const SHA1_HEX = createHash('sha1').update(BODY).digest('hex');
const SHA512_SRI = sha512Integrity(BODY);
const SHA1_SRI = `sha1-${createHash('sha1').update(BODY).digest('base64')}`;
const SHA256_SRI = `sha256-${createHash('sha256').update(BODY).digest('base64')}`;
const OTHER_SHA512_SRI = sha512Integrity('other bytes');

function facts(integrity: string | undefined, sha1?: string) {
  return testVersionFacts({ integrity, sha1 });
}

describe('sha512HexOf / sha1HexOf', () => {
  it('reads the hex digest of a well-formed entry', () => {
    assert.equal(sha512HexOf(SHA512_SRI), SHA512_HEX);
    assert.equal(sha512HexOf(`${SHA1_SRI} ${SHA512_SRI}`), SHA512_HEX);
    assert.equal(sha1HexOf(SHA1_SRI), SHA1_HEX);
  });

  it('is undefined when there is no single well-formed entry', () => {
    assert.equal(sha512HexOf(undefined), undefined);
    assert.equal(sha512HexOf(''), undefined);
    assert.equal(sha512HexOf('garbage'), undefined);
    assert.equal(sha512HexOf(SHA1_SRI), undefined);
    assert.equal(sha512HexOf('sha512-dG9vIHNob3J0'), undefined, 'decodes to 9 bytes, not 64');
    assert.equal(sha512HexOf(`sha512-${'!'.repeat(88)}`), undefined);
    assert.equal(sha512HexOf(`${SHA512_SRI} ${OTHER_SHA512_SRI}`), undefined, 'two different digests');
    assert.equal(sha512HexOf(`${SHA512_SRI} ${SHA512_SRI}`), SHA512_HEX, 'the same digest twice is one');
  });
});

describe('integrityFormatCheck', () => {
  it('accepts a sha512 in both modes', () => {
    for (const mode of ['sha512', 'any'] as const) {
      const r = integrityFormatCheck(facts(SHA512_SRI, SHA1_HEX), mode);
      assert.equal(r.ok, true, mode);
      assert.equal(r.reason, undefined);
      assert.deepEqual(expectedDigest(facts(SHA512_SRI, SHA1_HEX), mode), { algorithm: 'sha512', hex: SHA512_HEX });
    }
  });

  it('takes a sha1-only version (dist.shasum) only in any mode', () => {
    const f = facts(undefined, SHA1_HEX);
    assert.deepEqual(integrityFormatCheck(f, 'sha512'), {
      ok: false,
      reason: 'no-sha512',
      detail: 'no dist.integrity: only a sha1 is published, and policy requires sha512',
    });
    assert.equal(integrityFormatCheck(f, 'any').ok, true);
    assert.deepEqual(expectedDigest(f, 'any'), { algorithm: 'sha1', hex: SHA1_HEX });
    assert.equal(expectedDigest(f, 'sha512'), undefined);
  });

  it('takes a sha1-only dist.integrity only in any mode', () => {
    const f = facts(SHA1_SRI);
    assert.equal(integrityFormatCheck(f, 'sha512').reason, 'no-sha512');
    assert.deepEqual(expectedDigest(f, 'any'), { algorithm: 'sha1', hex: SHA1_HEX });
    assert.deepEqual(expectedDigest(facts(SHA1_SRI, SHA1_HEX.toUpperCase()), 'any'), { algorithm: 'sha1', hex: SHA1_HEX });
  });

  it('refuses a sha1 in dist.integrity that disagrees with dist.shasum', () => {
    const r = integrityFormatCheck(facts(SHA1_SRI, 'a'.repeat(40)), 'any');
    assert.equal(r.ok, false);
    assert.equal(r.reason, 'ambiguous-integrity');
  });

  it('does not count other algorithms', () => {
    for (const integrity of [SHA256_SRI, `md5-${createHash('md5').update(BODY).digest('base64')}`, 'whirlpool2-abc']) {
      for (const mode of ['sha512', 'any'] as const) {
        assert.equal(integrityFormatCheck(facts(integrity), mode).reason, 'no-integrity', `${integrity} ${mode}`);
      }
    }
    assert.deepEqual(expectedDigest(facts(`${SHA256_SRI} ${SHA1_SRI}`), 'any'), { algorithm: 'sha1', hex: SHA1_HEX });
  });

  it('fails when nothing is published, in both modes', () => {
    for (const mode of ['sha512', 'any'] as const) {
      const r = integrityFormatCheck(facts(undefined), mode);
      assert.equal(r.ok, false);
      assert.equal(r.reason, 'no-integrity');
      assert.match(r.detail, /no dist\.integrity/);
    }
  });

  it('refuses garbage, malformed and ambiguous sha512 entries', () => {
    assert.equal(integrityFormatCheck(facts('garbage'), 'any').reason, 'no-integrity');
    assert.match(integrityFormatCheck(facts('garbage'), 'sha512').detail, /"garbage" has no sha512/);
    assert.equal(integrityFormatCheck(facts('sha512-AAAA'), 'any').reason, 'malformed-integrity');
    assert.equal(integrityFormatCheck(facts(`${SHA512_SRI} sha512-AAAA`), 'sha512').reason, 'malformed-integrity');
    assert.equal(integrityFormatCheck(facts(`${SHA512_SRI} ${OTHER_SHA512_SRI}`), 'sha512').reason, 'ambiguous-integrity');
    assert.equal(integrityFormatCheck(facts(`${SHA512_SRI} ${'x'.repeat(5000)}`), 'sha512').reason, 'malformed-integrity');
    assert.equal(integrityFormatCheck(facts('sha1-AAAA'), 'any').reason, 'malformed-integrity');
  });
});

describe('IntegrityHasher', () => {
  it('hashes a body streamed in chunks', () => {
    const hasher = new IntegrityHasher({ algorithm: 'sha512', hex: SHA512_HEX });
    for (let i = 0; i < BODY.length; i += 5) hasher.update(BODY.subarray(i, i + 5));
    assert.equal(hasher.bytes, BODY.length);
    assert.equal(hasher.digestHex(), SHA512_HEX);
    assert.equal(hasher.matches(), true);
    assert.equal(hasher.digestHex(), SHA512_HEX, 'digestHex is stable');
    assert.throws(() => hasher.update(BODY), /after digestHex/);
  });

  it('does not match altered bytes', () => {
    const hasher = new IntegrityHasher({ algorithm: 'sha512', hex: SHA512_HEX });
    hasher.update(Buffer.from('the tarball byteZ'));
    assert.equal(hasher.matches(), false);
  });

  it('checks sha1 too', () => {
    const expected = expectedDigest(facts(undefined, SHA1_HEX), 'any');
    assert.ok(expected);
    assert.equal(new IntegrityHasher(expected).update(BODY).matches(), true);
  });
});
