import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseKeysDocument } from '../../../src/verify/keys/parse.js';
import {
  keyCountsAt,
  precomputedValidity,
  registrySignatureTasks,
  registrySignatureVerdict,
  signatureMessage,
  verifyEcdsaP256,
  verifyRegistrySignature,
} from '../../../src/verify/registry-signature.js';
import type { RegistryKeySet } from '../../../src/verify/types.js';
import { createRegistryKey, sha512Integrity, testVersionFacts, type TestRegistryKey } from '../../helpers/registry-key.js';

const EXPIRY = '2025-01-29T00:00:00.000Z';
const current = createRegistryKey('SHA256:current');
const old = createRegistryKey('SHA256:old', EXPIRY);
const stranger = createRegistryKey('SHA256:stranger');

function keySet(...keys: TestRegistryKey[]): RegistryKeySet {
  return parseKeysDocument({ keys: keys.map((k) => k.entry()) }, 'test keys');
}

const KEYS = keySet(current, old);

describe('signatureMessage', () => {
  it('is name@version:integrity, as the registry signs it', () => {
    const facts = testVersionFacts({ name: '@scope/pkg', version: '1.2.3-beta.1', integrity: 'sha512-abc==' });
    assert.equal(signatureMessage(facts), '@scope/pkg@1.2.3-beta.1:sha512-abc==');
    assert.equal(signatureMessage({ ...facts, integrity: undefined }), undefined);
  });
});

describe('registrySignatureVerdict', () => {
  it('is valid for a signature by a known key', () => {
    const v = verifyRegistrySignature(testVersionFacts({}, [current]), KEYS);
    assert.equal(v.status, 'valid');
    assert.equal(v.keyid, 'SHA256:current');
    assert.match(v.detail, /left-pad@1\.0\.0 is signed by SHA256:current \(keys from test keys\)/);
  });

  it('is invalid when another key made the signature under a known keyid', () => {
    const forged = stranger.sign('left-pad', '1.0.0', testVersionFacts().integrity!);
    const v = verifyRegistrySignature(testVersionFacts({ signatures: [{ keyid: current.keyid, sig: forged.sig }] }), KEYS);
    assert.equal(v.status, 'invalid');
    assert.equal(v.keyid, 'SHA256:current');
  });

  it('is invalid when the integrity was altered after signing', () => {
    const signed = testVersionFacts({}, [current]);
    const v = verifyRegistrySignature({ ...signed, integrity: sha512Integrity('evil tarball') }, KEYS);
    assert.equal(v.status, 'invalid');
    assert.match(v.detail, /invalid registry signature by SHA256:current/);
  });

  it('is invalid for a malformed signature', () => {
    for (const sig of ['', 'not base64!', 'AAAA', Buffer.alloc(72, 7).toString('base64')]) {
      const v = verifyRegistrySignature(testVersionFacts({ signatures: [{ keyid: current.keyid, sig }] }), KEYS);
      assert.equal(v.status, 'invalid', JSON.stringify(sig));
    }
  });

  it('counts an expiring key only for versions published before it expired', () => {
    const before = testVersionFacts({ publishedAt: Date.parse(EXPIRY) - 1 }, [old]);
    assert.equal(verifyRegistrySignature(before, KEYS).status, 'valid');
    for (const publishedAt of [Date.parse(EXPIRY), Date.parse(EXPIRY) + 86_400_000]) {
      const v = verifyRegistrySignature(testVersionFacts({ publishedAt }, [old]), KEYS);
      assert.equal(v.status, 'expired-key');
      assert.equal(v.keyid, 'SHA256:old');
      assert.match(v.detail, /SHA256:old \(expired 2025-01-29T00:00:00\.000Z\); it was published 2025-01-/);
    }
  });

  it('fails closed on an unknown publish time for an expiring key only', () => {
    const v = verifyRegistrySignature(testVersionFacts({ publishedAt: undefined }, [old]), KEYS);
    assert.equal(v.status, 'expired-key');
    assert.match(v.detail, /publish time is unknown/);
    assert.equal(verifyRegistrySignature(testVersionFacts({ publishedAt: undefined }, [current]), KEYS).status, 'valid');
  });

  it('is missing without signatures, no-keys without keys', () => {
    assert.equal(verifyRegistrySignature(testVersionFacts(), KEYS).status, 'missing');
    assert.equal(verifyRegistrySignature(testVersionFacts({}, [current]), undefined).status, 'no-keys');
    assert.equal(verifyRegistrySignature(testVersionFacts(), undefined).status, 'no-keys');
    assert.equal(verifyRegistrySignature(testVersionFacts({}, [current]), { source: 'empty', keys: [] }).status, 'no-keys');
  });

  it('is unknown-key when no signature is by a known key', () => {
    const v = verifyRegistrySignature(testVersionFacts({}, [stranger]), KEYS);
    assert.equal(v.status, 'unknown-key');
    assert.equal(v.detail, 'left-pad@1.0.0 is signed by SHA256:stranger, none of which is a key from test keys');
    const anonymous = createRegistryKey();
    assert.match(anonymous.keyid, /^SHA256:test-[A-Za-z0-9+/]{24}$/);
    assert.equal(verifyRegistrySignature(testVersionFacts({}, [anonymous]), KEYS).status, 'unknown-key');
  });

  it('ignores a signature by an unknown key next to a valid one', () => {
    assert.equal(verifyRegistrySignature(testVersionFacts({}, [stranger, current]), KEYS).status, 'valid');
  });

  it('is invalid when one of two signatures by counting keys fails, even if the other verifies', () => {
    const facts = testVersionFacts({}, [current]);
    const bad = { keyid: old.keyid, sig: old.signMessage('something else') };
    for (const signatures of [[...facts.signatures, bad], [bad, ...facts.signatures]]) {
      const v = verifyRegistrySignature({ ...facts, signatures }, KEYS);
      assert.equal(v.status, 'invalid');
      assert.equal(v.keyid, 'SHA256:old');
    }
  });

  it('ignores a bad signature by a key that does not count any more', () => {
    const facts = testVersionFacts({ publishedAt: Date.parse('2026-01-01') }, [current]);
    const expiredBad = { keyid: old.keyid, sig: old.signMessage('something else') };
    assert.equal(verifyRegistrySignature({ ...facts, signatures: [...facts.signatures, expiredBad] }, KEYS).status, 'valid');
  });

  it('is invalid when a version has a signature but no integrity', () => {
    const facts = testVersionFacts({}, [current]);
    assert.equal(verifyRegistrySignature({ ...facts, integrity: undefined }, KEYS).status, 'invalid');
  });
});

describe('batched verification', () => {
  it('lists only the verifications the verdict needs', () => {
    const facts = testVersionFacts({ publishedAt: Date.parse('2026-01-01') }, [current, old, stranger]);
    const tasks = registrySignatureTasks(facts, KEYS);
    assert.deepEqual(tasks.map((t) => t.key.keyid), ['SHA256:current']);
    assert.equal(tasks[0]?.message, signatureMessage(facts));
    assert.deepEqual(registrySignatureTasks(testVersionFacts(), KEYS), []);
    assert.deepEqual(registrySignatureTasks(facts, undefined), []);
  });

  it('gives the inline verdicts from precomputed results', () => {
    const signed = testVersionFacts({}, [current, old]);
    const versions = [signed, { ...signed, version: '2.0.0' }, testVersionFacts({ version: '3.0.0' }, [old])];
    const tasks = versions.flatMap((f) => registrySignatureTasks(f, KEYS));
    const isValid = precomputedValidity(tasks, tasks.map((t) => verifyEcdsaP256(t.key, t.message, t.sig)));
    for (const facts of versions) {
      assert.deepEqual(registrySignatureVerdict(facts, KEYS, isValid), verifyRegistrySignature(facts, KEYS));
    }
    // 2.0.0 carries 1.0.0's signatures: sharing a batch must not let it borrow 1.0.0's results.
    assert.equal(registrySignatureVerdict(versions[1]!, KEYS, isValid).status, 'invalid');
  });

  it('answers false for anything it was not given', () => {
    const isValid = precomputedValidity([], []);
    assert.equal(registrySignatureVerdict(testVersionFacts({}, [current]), KEYS, isValid).status, 'invalid');
    assert.throws(() => precomputedValidity(registrySignatureTasks(testVersionFacts({}, [current]), KEYS), []), RangeError);
  });
});

describe('verifyEcdsaP256 and keyCountsAt', () => {
  it('never throws on malformed keys or signatures', () => {
    const good = KEYS.keys[0]!;
    const sig = current.signMessage('m');
    assert.equal(verifyEcdsaP256(good, 'm', sig), true);
    assert.equal(verifyEcdsaP256({ ...good, key: 'garbage' }, 'm', sig), false);
    assert.equal(verifyEcdsaP256({ ...good, key: '' }, 'm', sig), false);
    assert.equal(verifyEcdsaP256({ ...good, key: Buffer.alloc(91).toString('base64') }, 'm', sig), false);
    assert.equal(verifyEcdsaP256(good, 'm', '%%%'), false);
  });

  it('compares the publish time with the expiry strictly', () => {
    const key = KEYS.keys[1]!;
    assert.equal(keyCountsAt(key, Date.parse(EXPIRY) - 1), true);
    assert.equal(keyCountsAt(key, Date.parse(EXPIRY)), false);
    assert.equal(keyCountsAt(key, undefined), false);
    assert.equal(keyCountsAt({ ...key, expires: 'not a date' }, 0), false);
    assert.equal(keyCountsAt({ ...key, expires: null }, undefined), true);
  });
});
