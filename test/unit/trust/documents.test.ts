import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBase64Strict, encodeBase64 } from '../../../src/trust/base64.js';
import { EnvelopeError, pae, parseEnvelope, signEnvelope, verifyEnvelope } from '../../../src/trust/dsse.js';
import { generateKeyPair, keyidOf, verifyBytes } from '../../../src/trust/ed25519.js';
import { npmPurl, parseNpmPurl } from '../../../src/trust/purl.js';
import { parseStatement, PREDICATE_TYPES, statementBytes, StatementError, STATEMENT_TYPE } from '../../../src/trust/statement.js';
import { auditEnvelope, sha512Hex, testSigner } from '../../helpers/trust-sign.js';

const MAX = 64 * 1024;
const SHA = sha512Hex('tarball');

function envelopeParts(text: string): { payloadType: string; payload: string; signatures: Array<{ keyid: string; sig: string }> } {
  return JSON.parse(text) as { payloadType: string; payload: string; signatures: Array<{ keyid: string; sig: string }> };
}

describe('DSSE and Ed25519', () => {
  it('encodes PAE with lengths in bytes (the DSSE spec vector)', () => {
    assert.equal(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString(), 'DSSEv1 29 http://example.com/HelloWorld 11 hello world');
    assert.equal(pae('t', Buffer.from('é')).toString(), 'DSSEv1 1 t 2 é');
  });

  it('derives keyid as ed25519: + hex sha256 of the raw public key', () => {
    const pair = generateKeyPair();
    assert.match(pair.keyid, /^ed25519:[0-9a-f]{64}$/);
    assert.equal(keyidOf(pair.publicKey), pair.keyid);
  });

  it('verifies over the received payload bytes, whatever their formatting', () => {
    const signer = testSigner('acme/alice');
    // A payload with unusual spacing and key order: it is verified as sent and parsed as sent.
    const payload = Buffer.from(`{ "predicateType":"${PREDICATE_TYPES.audit}", "_type":"${STATEMENT_TYPE}",\n "predicate":{"kind":"full","criteria":["safe-to-run"],"signer":"${signer.keyid}"},` +
      ` "subject":[{"digest":{"sha512":"${SHA}"},"name":"pkg:npm/left-pad@1.0.0"}] }`);
    const envelope = parseEnvelope(Buffer.from(signEnvelope(payload, signer.secretKey, signer.keyid)), MAX);
    assert.ok(verifyEnvelope(envelope, signer.publicKey));
    assert.deepEqual(envelope.payload, payload);
    const statement = parseStatement(envelope.payload, MAX);
    assert.equal(statement.type, 'audit');
    assert.equal(statement.signer, signer.keyid);
  });

  it('fails when a payload byte, the signature or the key changes', () => {
    const signer = testSigner('acme/alice');
    const text = auditEnvelope(signer, { name: 'left-pad', version: '1.0.0', sha512: SHA });
    const parts = envelopeParts(text);
    const payload = decodeBase64Strict(parts.payload)!;
    payload[payload.length - 3]! ^= 1;
    const tampered = parseEnvelope(Buffer.from(JSON.stringify({ ...parts, payload: encodeBase64(payload) })), MAX);
    assert.equal(verifyEnvelope(tampered, signer.publicKey), false);
    const original = parseEnvelope(Buffer.from(text), MAX);
    assert.equal(verifyEnvelope(original, signer.publicKey), true);
    assert.equal(verifyEnvelope(original, testSigner('acme/bob').publicKey), false);
    const sig = Buffer.from(original.sig);
    sig[0]! ^= 1;
    assert.equal(verifyBytes(sig, pae(original.payloadType, original.payload), signer.publicKey), false);
  });

  it('rejects envelopes that are not strict', () => {
    const signer = testSigner('acme/alice');
    const parts = envelopeParts(auditEnvelope(signer, { name: 'left-pad', version: '1.0.0', sha512: SHA }));
    const cases: Array<[unknown, RegExp]> = [
      [{ ...parts, payloadType: 'application/json' }, /payloadType must be application\/vnd.in-toto\+json/],
      [{ ...parts, extra: 1 }, /unknown key "extra"/],
      [{ ...parts, signatures: [...parts.signatures, ...parts.signatures] }, /exactly one signature/],
      [{ ...parts, signatures: [{ ...parts.signatures[0], keyid: 'SHA256:abc' }] }, /keyid must be "ed25519:"/],
      [{ ...parts, payload: `${parts.payload.slice(0, -4)}!!!!` }, /not canonical/],
    ];
    for (const [doc, message] of cases) assert.throws(() => parseEnvelope(Buffer.from(JSON.stringify(doc)), MAX), message);
    const duplicated = `{"payloadType":"${parts.payloadType}","payload":"${parts.payload}","payload":"${parts.payload}","signatures":[]}`;
    assert.throws(() => parseEnvelope(Buffer.from(duplicated), MAX), (err: unknown) => err instanceof EnvelopeError && /duplicate key "payload"/.test(err.message));
    assert.throws(() => parseEnvelope(Buffer.from(JSON.stringify(parts)), 100), /over the 100-byte cap/);
  });
});

describe('in-toto statements', () => {
  const signer = testSigner('acme/alice');

  it('round-trips every predicate', () => {
    const audit = { type: 'audit', signer: signer.keyid, subject: { name: '@acme/widget', version: '1.2.3-rc.1', sha512: SHA }, kind: 'delta', criteria: ['safe-to-run'], from: { version: '1.2.2', sha512: SHA }, notes: 'diff read', thoroughness: 'high' } as const;
    assert.deepEqual(parseStatement(statementBytes(audit), MAX), audit);
    const publish = { type: 'publish', signer: signer.keyid, subject: { name: 'left-pad', version: '1.0.0', sha512: SHA }, publishedAt: Date.parse('2025-02-03T04:05:06.000Z') } as const;
    assert.deepEqual(parseStatement(statementBytes(publish), MAX), publish);
    const revocation = { type: 'revocation', signer: signer.keyid, keyid: signer.keyid, reason: 'laptop stolen', compromisedSince: Date.parse('2025-02-01T00:00:00.000Z') } as const;
    assert.deepEqual(parseStatement(statementBytes(revocation), MAX), revocation);
  });

  function statementWith(change: (s: Record<string, unknown> & { predicate: Record<string, unknown>; subject: Array<Record<string, unknown>> }) => void): Buffer {
    const s = JSON.parse(statementBytes({ type: 'audit', signer: signer.keyid, subject: { name: 'left-pad', version: '1.0.0', sha512: SHA }, kind: 'full', criteria: ['safe-to-deploy'], from: undefined, notes: undefined, thoroughness: undefined }).toString());
    change(s);
    return Buffer.from(JSON.stringify(s));
  }

  it('refuses malformed statements with a reason', () => {
    const cases: Array<[Buffer, RegExp]> = [
      [statementWith((s) => (s._type = 'https://in-toto.io/Statement/v0.1')), /_type must be/],
      [statementWith((s) => (s.predicateType = 'https://slsa.dev/provenance/v1')), /predicateType must be one of/],
      [statementWith((s) => (s.predicate.kind = 'partial')), /kind must be "full", "delta" or "violation"/],
      [statementWith((s) => (s.predicate.kind = 'delta')), /a delta audit needs predicate.from/],
      [statementWith((s) => (s.predicate.criteria = [])), /criteria must be a list of 1 to 16/],
      [statementWith((s) => (s.predicate.signer = 'alice')), /predicate.signer must be the signing keyid/],
      [statementWith((s) => (s.predicate.auditedBy = 'alice')), /unknown key "auditedBy"/],
      [statementWith((s) => (s.subject[0]!.name = 'pkg:npm/left-pad')), /canonical npm package URL/],
      [statementWith((s) => (s.subject[0]!.name = 'pkg:npm/@acme/widget@1.0.0')), /canonical npm package URL/],
      [statementWith((s) => (s.subject[0]!.digest = { sha512: SHA.toUpperCase() })), /128 lower-case hex/],
      [statementWith((s) => (s.subject = [s.subject[0]!, s.subject[0]!])), /exactly one entry/],
    ];
    for (const [bytes, message] of cases) assert.throws(() => parseStatement(bytes, MAX), (err: unknown) => err instanceof StatementError && message.test(err.message), message.source);
  });

  it('writes and reads canonical npm purls only', () => {
    assert.equal(npmPurl('@acme/widget', '1.0.0-rc.1'), 'pkg:npm/%40acme/widget@1.0.0-rc.1');
    assert.deepEqual(parseNpmPurl('pkg:npm/%40acme/widget@1.0.0-rc.1'), { name: '@acme/widget', version: '1.0.0-rc.1' });
    assert.deepEqual(parseNpmPurl('pkg:npm/left-pad@1.0.0'), { name: 'left-pad', version: '1.0.0' });
    assert.equal(parseNpmPurl('pkg:npm/%40acme%2Fwidget@1.0.0'), undefined);
    assert.equal(parseNpmPurl('pkg:npm/left-pad@1.0.0+b.1'), undefined, 'build metadata is not an npm version');
    assert.equal(parseNpmPurl('pkg:npm/left-pad@latest'), undefined);
    assert.equal(parseNpmPurl('pkg:pypi/left-pad@1.0.0'), undefined);
  });
});
