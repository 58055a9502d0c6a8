import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isCountersignError } from '../../../src/errors.js';
import { loadKeysFile } from '../../../src/verify/keys/file.js';
import { parseKeysDocument } from '../../../src/verify/keys/parse.js';
import { tufSeedKeys } from '../../../src/verify/keys/tuf-seed.js';
import { createRegistryKey } from '../../helpers/registry-key.js';

const NPM_2022 = 'SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA';
const NPM_2025 = 'SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U';

const keyA = createRegistryKey('SHA256:a', '2030-01-01T00:00:00.000Z');
const keyB = createRegistryKey('SHA256:b');

function spkiBase64(type: 'ec' | 'ed25519', namedCurve?: string): string {
  const { publicKey } = type === 'ec' ? generateKeyPairSync('ec', { namedCurve: namedCurve! }) : generateKeyPairSync('ed25519');
  return publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
}

const keysUnavailable = (err: unknown) => isCountersignError(err, 'ECS_KEYS_UNAVAILABLE');

describe('parseKeysDocument', () => {
  it('keeps well-formed keys as published', () => {
    const set = parseKeysDocument({ keys: [keyA.entry(), keyB.entry()] }, 'https://registry.example/-/npm/v1/keys');
    assert.equal(set.source, 'https://registry.example/-/npm/v1/keys');
    assert.deepEqual(set.keys, [keyA.entry(), keyB.entry()]);
    assert.deepEqual(set.skipped, []);
  });

  it('skips unsupported or malformed entries and says why', () => {
    const good = keyB.entry();
    const set = parseKeysDocument(
      {
        keys: [
          { ...keyA.entry(), keytype: 'ssh-ed25519', scheme: 'ssh-ed25519' },
          { ...keyA.entry(), key: spkiBase64('ec', 'secp384r1') },
          { ...keyA.entry(), key: spkiBase64('ed25519') },
          { ...keyA.entry(), key: 'not base64!' },
          { ...keyA.entry(), expires: 'someday' },
          { ...keyA.entry(), expires: undefined },
          { ...keyA.entry(), keyid: '' },
          'a string',
          good,
          { ...good },
        ],
      },
      'test',
    );
    assert.deepEqual(set.keys, [good]);
    assert.equal(set.skipped?.length, 9);
    assert.match(set.skipped![0]!, /keys\[0\] \(SHA256:a\): unsupported keytype\/scheme "ssh-ed25519"/);
    assert.match(set.skipped![1]!, /not a base64 DER SPKI P-256 public key/);
    assert.match(set.skipped![2]!, /not a base64 DER SPKI P-256 public key/);
    assert.match(set.skipped![4]!, /expires must be null or a date, got "someday"/);
    assert.match(set.skipped![8]!, /keys\[9\] \(SHA256:b\): repeats an earlier keyid/);
  });

  it('throws ECS_KEYS_UNAVAILABLE when nothing is usable', () => {
    for (const doc of [null, 'keys', [], {}, { keys: {} }, { keys: [] }, { keys: [{ ...keyA.entry(), keytype: 'rsa' }] }]) {
      assert.throws(() => parseKeysDocument(doc, 'upstream npmjs'), (err: unknown) => {
        assert.ok(keysUnavailable(err), String(err));
        assert.match((err as Error).message, /upstream npmjs/);
        return true;
      });
    }
  });
});

describe('loadKeysFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-keys-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a pinned keys file', async () => {
    const path = join(dir, 'keys.json');
    writeFileSync(path, JSON.stringify(keyB.keysDocument()));
    const set = await loadKeysFile(path);
    assert.equal(set.source, path);
    assert.deepEqual(set.keys, [keyB.entry()]);
  });

  it('throws ECS_KEYS_UNAVAILABLE for a missing or broken file', async () => {
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"keys": [');
    await assert.rejects(loadKeysFile(join(dir, 'absent.json')), keysUnavailable);
    await assert.rejects(loadKeysFile(broken), keysUnavailable);
  });
});

describe('tufSeedKeys', () => {
  it('has both npm signing keys, with their expiry', () => {
    const set = tufSeedKeys();
    assert.match(set.source, /^@sigstore\/tuf \d+\.\d+\.\d+ seed$/);
    const byId = new Map(set.keys.map((k) => [k.keyid, k]));
    assert.equal(byId.get(NPM_2022)?.expires, '2025-01-29T00:00:00.000Z');
    assert.equal(byId.get(NPM_2025)?.expires, null);
    for (const key of set.keys) {
      assert.equal(key.keytype, 'ecdsa-sha2-nistp256');
      assert.equal(key.scheme, 'ecdsa-sha2-nistp256');
    }
    assert.equal(set.keys.length, 2, 'attestation entries are not signature keys');
  });

  it('throws ECS_KEYS_UNAVAILABLE for a host it has no keys for', () => {
    assert.throws(() => tufSeedKeys('npm.example.internal'), keysUnavailable);
  });
});
