import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parsePackument } from '../../../src/registry/parse.js';
import { registrySignatureTasks, signatureResultKey } from '../../../src/verify/registry-signature.js';
import { prescanSignatures } from '../../../src/verify/signature-prescan.js';
import type { RegistryKeySet } from '../../../src/verify/types.js';
import { createRegistryKey, sha512Integrity } from '../../helpers/registry-key.js';

const key = createRegistryKey();
const other = createRegistryKey();
const keys: RegistryKeySet = { source: 'test', keys: [key.entry()] };

function packument(count: number, edit: (manifest: Record<string, unknown>, i: number) => void = () => {}): Record<string, unknown> {
  const versions: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    const version = `1.0.${i}`;
    const integrity = sha512Integrity(version);
    const manifest: Record<string, unknown> = {
      name: 'pkg',
      version,
      description: 'd',
      dist: { integrity, shasum: '0'.repeat(40), tarball: `https://r.example/pkg/-/pkg-${version}.tgz`, signatures: [key.sign('pkg', version, integrity), other.sign('pkg', version, integrity)] },
    };
    edit(manifest, i);
    versions[version] = manifest;
  }
  return { name: 'pkg', 'dist-tags': { latest: '1.0.0' }, versions };
}

/** The result keys the parsed packument asks about. */
function planned(doc: unknown): Set<string> {
  const parsed = parsePackument(doc, 'pkg');
  const out = new Set<string>();
  for (const facts of parsed.facts.values()) for (const t of registrySignatureTasks(facts, keys)) out.add(signatureResultKey(t.key.keyid, t.message, t.sig));
  return out;
}

const found = (bytes: Buffer, max = 1e6, from?: number, to?: number) =>
  new Set(prescanSignatures(bytes, 'pkg', new Set([key.keyid]), max, from, to).map((c) => signatureResultKey(c.keyid, c.message, c.sig)));

describe('prescanSignatures', () => {
  it('guesses exactly the verifications the parsed registry layout asks for, known keys only', () => {
    const doc = packument(50);
    assert.deepEqual(found(Buffer.from(JSON.stringify(doc))), planned(doc));
  });

  it('splits by where each signatures array starts: halves add up to the whole, without overlap', () => {
    const bytes = Buffer.from(JSON.stringify(packument(40)));
    const middle = bytes.length >> 1;
    const first = found(bytes, 1e6, 0, middle);
    const second = found(bytes, 1e6, middle);
    assert.ok(first.size > 0 && second.size > 0);
    assert.equal(first.size + second.size, found(bytes).size);
    for (const id of first) assert.ok(!second.has(id));
  });

  it('stops at max', () => {
    assert.equal(prescanSignatures(Buffer.from(JSON.stringify(packument(30))), 'pkg', new Set([key.keyid]), 7).length, 7);
  });

  it('finds nothing in a layout it does not know (pretty-printed) and skips escaped values', () => {
    assert.equal(found(Buffer.from(JSON.stringify(packument(10), null, 2))).size, 0);
    const escaped = JSON.stringify(packument(3)).replaceAll('"version":"1.0.1"', '"version":"1.0.\\u0031"');
    assert.equal(found(Buffer.from(escaped)).size, 2);
  });

  it('guesses wrong, never right for the wrong version, when a nested "version" sits before dist', () => {
    const doc = packument(5, (manifest, i) => {
      if (i !== 2) return;
      const dist = manifest['dist'];
      delete manifest['dist'];
      Object.assign(manifest, { config: { version: '9.9.9' }, dist });
    });
    const guesses = found(Buffer.from(JSON.stringify(doc)));
    const asked = planned(doc);
    assert.equal([...guesses].filter((id) => asked.has(id)).length, 4, 'the other four versions are guessed right');
    assert.ok([...guesses].some((id) => id.includes('pkg@9.9.9:')), 'the decoy gives a guess nothing will ask about');
  });

  it('never throws and stays within its bounds on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat(50), (raw, max) => {
        const bytes = Buffer.concat([Buffer.from('"version":"1"'), Buffer.from(raw), Buffer.from('"integrity":"x","signatures":[{"keyid":"' + key.keyid + '","sig":"s"}]')]);
        const out = prescanSignatures(bytes, 'pkg', new Set([key.keyid]), max);
        assert.ok(out.length <= max);
      }),
      { numRuns: 300 },
    );
  });
});
