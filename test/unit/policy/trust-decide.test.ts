import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide } from '../../../src/policy/decide.js';
import type { Decision } from '../../../src/policy/decision.js';
import type { VerifyRule } from '../../../src/policy/types.js';
import type { PackageEvidence } from '../../../src/trust/evidence.js';
import type { KeyRecord } from '../../../src/trust/types.js';
import { testVersionFacts } from '../../helpers/registry-key.js';
import { auditRecord, DAY, evidenceOf, exemptionRecord, keyRecord, publishRecord, ruleWith, T0, type EvidenceSpec } from '../../helpers/trust-records.js';

const FACTS = testVersionFacts({ publishedAt: T0 - 30 * DAY });
const SHA = FACTS.sha512!;
const OTHER_SHA = 'ab'.repeat(64);
const NOW = T0 + 10 * DAY;

function run(rule: VerifyRule, evidence: PackageEvidence, now = NOW, facts = FACTS): Decision {
  return decide(rule, { facts, signature: { status: 'valid', detail: 'signed' }, tarballOriginAllowed: true, tampered: false, now, trust: evidence });
}

function auditsCheck(d: Decision) {
  const check = d.checks.find((c) => c.check === 'audits');
  assert.ok(check, 'an audits check was made');
  return check;
}

const two = ruleWith({ audits: { min: 2 } });
const alice = keyRecord('acme/alice');
const bob = keyRecord('acme/bob');
const carol = keyRecord('acme/carol');

function withKeys(spec: EvidenceSpec): PackageEvidence {
  return evidenceOf({ keys: [alice, bob, carol], ...spec });
}

describe('audits: thresholds and principals', () => {
  it('hides a version below the threshold and allows it once met', () => {
    const one = run(two, withKeys({ audits: [auditRecord(alice, { sha512: SHA })] }));
    assert.equal(one.allowed, false);
    assert.deepEqual(one.reasons, ['audits']);
    assert.equal(auditsCheck(one).counted, 1);
    assert.match(one.summary, /1 of 2 audits/);
    const both = run(two, withKeys({ audits: [auditRecord(alice, { sha512: SHA }), auditRecord(bob, { sha512: SHA })] }));
    assert.equal(both.allowed, true);
    assert.equal(auditsCheck(both).counted, 2);
    assert.match(auditsCheck(both).detail, /2 of 2 audits .*acme\/alice, acme\/bob/);
  });

  it('counts one principal once, however many keys and audits it has', () => {
    const aliceLaptop = keyRecord('acme/alice');
    const evidence = evidenceOf({ keys: [alice, aliceLaptop], audits: [auditRecord(alice, { sha512: SHA }), auditRecord(aliceLaptop, { sha512: SHA }), auditRecord(alice, { sha512: SHA })] });
    const d = run(two, evidence);
    assert.equal(d.allowed, false);
    assert.equal(auditsCheck(d).counted, 1);
    const notes = auditsCheck(d).audits!;
    assert.equal(notes.filter((n) => n.counted).length, 1);
    assert.equal(notes.filter((n) => /already counted/.test(n.why)).length, 2);
  });

  it('counts only the listed auditors, and requires every allOf principal', () => {
    const byAlice = ruleWith({ audits: { auditors: ['acme/alice'] } });
    assert.equal(run(byAlice, withKeys({ audits: [auditRecord(alice, { sha512: SHA })] })).allowed, true);
    const bobOnly = run(byAlice, withKeys({ audits: [auditRecord(bob, { sha512: SHA })] }));
    assert.equal(bobOnly.allowed, false);
    assert.match(auditsCheck(bobOnly).audits![0]!.why, /not among the auditors/);

    const withAlice = ruleWith({ audits: { min: 2, allOf: ['acme/alice'] } });
    const without = run(withAlice, withKeys({ audits: [auditRecord(bob, { sha512: SHA }), auditRecord(carol, { sha512: SHA })] }));
    assert.equal(without.allowed, false);
    assert.match(auditsCheck(without).detail, /missing an audit by acme\/alice/);
    assert.equal(run(withAlice, withKeys({ audits: [auditRecord(bob, { sha512: SHA }), auditRecord(alice, { sha512: SHA })] })).allowed, true);
  });

  it('ignores keys below minTrust', () => {
    const low = keyRecord('acme/dave', { trust: 'low' });
    const rule = ruleWith({ audits: { min: 1, minTrust: 'medium' } });
    const d = run(rule, evidenceOf({ keys: [low], audits: [auditRecord(low, { sha512: SHA })] }));
    assert.equal(d.allowed, false);
    assert.match(auditsCheck(d).audits![0]!.why, /trust low, below minTrust medium/);
  });

  it('needs the criteria: safe-to-run does not cover safe-to-deploy, the reverse does', () => {
    const runOnly = withKeys({ audits: [auditRecord(alice, { sha512: SHA, criteria: ['safe-to-run'] })] });
    const deploy = ruleWith({ audits: { criteria: 'safe-to-deploy' } });
    const d = run(deploy, runOnly);
    assert.equal(d.allowed, false);
    assert.match(auditsCheck(d).audits![0]!.why, /criteria \(safe-to-run\) do not cover safe-to-deploy/);
    assert.equal(run(ruleWith({ audits: { criteria: 'safe-to-run' } }), runOnly).allowed, true);
    const deployAudit = withKeys({ audits: [auditRecord(alice, { sha512: SHA, criteria: ['safe-to-deploy'] })] });
    assert.equal(run(ruleWith({ audits: { criteria: ['safe-to-run'] } }), deployAudit).allowed, true);
    assert.equal(run(ruleWith({ audits: { criteria: ['safe-to-run', 'crypto-reviewed'] } }), deployAudit).allowed, false);
  });

  it('does not count an audit of another digest of the same version', () => {
    const d = run(ruleWith({ audits: { min: 1 } }), withKeys({ audits: [auditRecord(alice, { sha512: OTHER_SHA })] }));
    assert.equal(d.allowed, false);
    assert.match(auditsCheck(d).audits![0]!.why, /audits another digest/);
  });
});

describe('audits: key standing', () => {
  const one = ruleWith({ audits: { min: 1 } });

  function whyNot(key: KeyRecord, seenAt: number, extra: EvidenceSpec = {}): string {
    const d = run(one, evidenceOf({ keys: [key], audits: [auditRecord(key, { sha512: SHA, seenAt })], ...extra }));
    assert.equal(d.allowed, false);
    return auditsCheck(d).audits![0]!.why;
  }

  it('voids audits first seen after the key expired, or after maxKeyValidity', () => {
    const key = keyRecord('acme/alice', { notAfter: T0 + 5 * DAY });
    assert.match(whyNot(key, T0 + 6 * DAY), /after the key of acme\/alice expired/);
    assert.equal(run(one, evidenceOf({ keys: [key], audits: [auditRecord(key, { sha512: SHA, seenAt: T0 + 4 * DAY })] })).allowed, true, 'an audit made while valid still counts after expiry');
    const long = keyRecord('acme/alice', { notAfter: T0 + 365 * DAY });
    assert.match(whyNot(long, T0 + 200 * DAY, { maxKeyValidityMs: 180 * DAY }), /capped by trust.maxKeyValidity/);
  });

  it('voids audits first seen before notBefore', () => {
    const key = keyRecord('acme/alice', { notBefore: T0 + 5 * DAY });
    assert.match(whyNot(key, T0 + DAY), /before the key of acme\/alice became valid/);
  });

  it('revocation: voids what was seen at or after compromisedSince, keeps what came before', () => {
    const revocations = [{ keyid: alice.keyid, voidFrom: T0 + 5 * DAY, revokedAt: T0 + 8 * DAY, reasons: ['revoked by an admin: laptop lost'] }];
    const before = run(one, evidenceOf({ keys: [alice], revocations, audits: [auditRecord(alice, { sha512: SHA, seenAt: T0 + 4 * DAY })] }));
    assert.equal(before.allowed, true);
    assert.match(whyNot(alice, T0 + 5 * DAY, { revocations }), /revoked \(revoked by an admin: laptop lost\): signatures seen from/);
  });

  it('revocation without compromisedSince voids every signature of the key', () => {
    const revocations = [{ keyid: alice.keyid, voidFrom: Number.NEGATIVE_INFINITY, revokedAt: T0 + 8 * DAY, reasons: ['self-revoked: retired'] }];
    assert.match(whyNot(alice, T0 + DAY, { revocations }), /all its signatures are void/);
  });

  it('needs the audit role, and a package inside the key’s globs', () => {
    assert.match(whyNot(keyRecord('acme/pub', { roles: ['publish'] }), T0 + DAY), /not enrolled for the audit role/);
    assert.match(whyNot(keyRecord('acme/scoped', { packages: ['@acme/*'] }), T0 + DAY), /left-pad is outside the packages the key of acme\/scoped may act on \(@acme\/\*\)/);
    const scoped = keyRecord('acme/scoped', { packages: ['@acme/*', 'left-*'] });
    assert.equal(run(one, evidenceOf({ keys: [scoped], audits: [auditRecord(scoped, { sha512: SHA })] })).allowed, true);
  });

  it('does not count an audit by a key that is not enrolled', () => {
    const d = run(one, evidenceOf({ keys: [], audits: [auditRecord(alice, { sha512: SHA })] }));
    assert.match(auditsCheck(d).audits![0]!.why, /not enrolled/);
  });
});

describe('audits: delta chains', () => {
  const one = ruleWith({ audits: { min: 1 } });
  const facts = testVersionFacts({ version: '1.2.0', publishedAt: T0 - DAY });
  const sha120 = facts.sha512!;
  const sha100 = 'a0'.repeat(64);
  const sha110 = 'b1'.repeat(64);
  const full100 = auditRecord(alice, { version: '1.0.0', sha512: sha100 });
  const delta110 = auditRecord(bob, { version: '1.1.0', sha512: sha110, kind: 'delta', from: { version: '1.0.0', sha512: sha100 } });
  const delta120 = auditRecord(carol, { version: '1.2.0', sha512: sha120, kind: 'delta', from: { version: '1.1.0', sha512: sha110 } });

  it('counts a delta audit whose chain reaches a full audit', () => {
    const d = run(one, withKeys({ audits: [full100, delta110, delta120] }), NOW, facts);
    assert.equal(d.allowed, true);
    assert.match(auditsCheck(d).audits![0]!.why, /delta from 1.1.0, chained to a full audit/);
  });

  it('does not count it when a link is missing, void, or of another digest', () => {
    assert.equal(run(one, withKeys({ audits: [delta110, delta120] }), NOW, facts).allowed, false, 'no full audit at the root');
    const revocations = [{ keyid: alice.keyid, voidFrom: Number.NEGATIVE_INFINITY, revokedAt: NOW, reasons: ['x'] }];
    const voided = run(one, withKeys({ audits: [full100, delta110, delta120], revocations }), NOW, facts);
    assert.equal(voided.allowed, false, 'the full audit at the root is void');
    assert.match(auditsCheck(voided).audits![0]!.why, /whose chain does not reach a valid full audit/);
    const otherRoot = auditRecord(alice, { version: '1.0.0', sha512: 'c2'.repeat(64) });
    assert.equal(run(one, withKeys({ audits: [otherRoot, delta110, delta120] }), NOW, facts).allowed, false, 'the full audit is of other bytes');
  });

  it('terminates on cycles', () => {
    const a = auditRecord(bob, { version: '1.1.0', sha512: sha110, kind: 'delta', from: { version: '1.2.0', sha512: sha120 } });
    const b = auditRecord(carol, { version: '1.2.0', sha512: sha120, kind: 'delta', from: { version: '1.1.0', sha512: sha110 } });
    assert.equal(run(one, withKeys({ audits: [a, b] }), NOW, facts).allowed, false);
  });
});

describe('violations, exemptions, composition, publisher signatures', () => {
  it('a violation audit by a key in good standing hides the version whatever else holds', () => {
    const audits = [auditRecord(alice, { sha512: SHA }), auditRecord(bob, { sha512: SHA }), auditRecord(carol, { sha512: OTHER_SHA, kind: 'violation', criteria: [], notes: 'steals tokens' })];
    for (const rule of [two, ruleWith({ audits: { min: 2 } }, 'warn'), ruleWith({ anyOf: [{ minReleaseAge: '1d' }, { audits: { min: 1 } }] }), ruleWith({})]) {
      const d = run(rule, withKeys({ audits }));
      assert.equal(d.allowed, false);
      assert.equal(d.warned, false);
      assert.ok(d.reasons.includes('violation'));
      assert.match(d.summary, /acme\/carol reported a violation: steals tokens/);
    }
    const revocations = [{ keyid: carol.keyid, voidFrom: Number.NEGATIVE_INFINITY, revokedAt: NOW, reasons: ['x'] }];
    assert.equal(run(two, withKeys({ audits, revocations })).allowed, true, 'a violation by a revoked key does not count');
  });

  it('honours an unexpired baseline exemption for exactly this name@version+sha512, until it expires', () => {
    const exemption = exemptionRecord({ sha512: SHA, expiresAt: NOW + 5 * DAY });
    const d = run(two, evidenceOf({ exemptions: [exemption] }));
    assert.equal(d.allowed, true);
    assert.match(auditsCheck(d).detail, /exempt by the baseline from package-lock.json until/);
    assert.equal(d.revisitAt, NOW + 5 * DAY, 'the decision is recomputed when the exemption ends');
    const expired = run(two, evidenceOf({ exemptions: [exemption] }), NOW + 5 * DAY);
    assert.equal(expired.allowed, false);
    assert.match(auditsCheck(expired).detail, /baseline exemption expired/);
    assert.equal(run(two, evidenceOf({ exemptions: [exemptionRecord({ sha512: OTHER_SHA })] })).allowed, false, 'another digest');
    assert.equal(run(ruleWith({ audits: { min: 2 }, exemptions: false }), evidenceOf({ exemptions: [exemption] })).allowed, false, 'exemptions: false');
  });

  it('anyOf: "3 audits, or one by alice" in one rule', () => {
    const rule = ruleWith({ anyOf: [{ audits: { min: 3 } }, { audits: { auditors: ['acme/alice'] } }] });
    assert.equal(run(rule, withKeys({ audits: [auditRecord(alice, { sha512: SHA })] })).allowed, true);
    assert.equal(run(rule, withKeys({ audits: [auditRecord(bob, { sha512: SHA }), auditRecord(carol, { sha512: SHA })] })).allowed, false);
    const dave = keyRecord('acme/dave');
    assert.equal(run(rule, evidenceOf({ keys: [bob, carol, dave], audits: [bob, carol, dave].map((k) => auditRecord(k, { sha512: SHA })) })).allowed, true);
  });

  it('anyOf: "3 days old, or audited once by a highly trusted key" releases an urgent fix from quarantine', () => {
    const rule = ruleWith({ anyOf: [{ minReleaseAge: '3d' }, { audits: { min: 1, minTrust: 'high' } }] });
    const fresh = testVersionFacts({ publishedAt: NOW - DAY });
    const hidden = run(rule, evidenceOf({}), NOW, fresh);
    assert.equal(hidden.allowed, false);
    assert.deepEqual([...hidden.reasons].sort(), ['audits', 'release-age']);
    assert.equal(hidden.revisitAt, NOW + 2 * DAY);
    const lead = keyRecord('acme/lead', { trust: 'high' });
    assert.equal(run(rule, evidenceOf({ keys: [lead], audits: [auditRecord(lead, { sha512: fresh.sha512! })] }), NOW, fresh).allowed, true);
    assert.equal(run(rule, withKeys({ audits: [auditRecord(alice, { sha512: fresh.sha512! })] }), NOW, fresh).allowed, false, 'medium trust is not enough');
  });

  it('publisherSignature: required needs a valid publish document over this digest; ifPresent accepts none but no invalid one', () => {
    const publisher = keyRecord('acme/release-bot', { roles: ['publish'], packages: ['left-pad'] });
    const required = ruleWith({ publisherSignature: 'required' });
    const ifPresent = ruleWith({ publisherSignature: 'ifPresent' });
    const none = run(required, evidenceOf({}));
    assert.deepEqual(none.reasons, ['publisher-signature']);
    assert.match(none.summary, /no publisher signature/);
    assert.equal(run(ifPresent, evidenceOf({})).allowed, true);
    const valid = evidenceOf({ keys: [publisher], publishes: [publishRecord(publisher, { sha512: SHA })] });
    assert.equal(run(required, valid).allowed, true);
    const otherDigest = evidenceOf({ keys: [publisher], publishes: [publishRecord(publisher, { sha512: OTHER_SHA })] });
    assert.equal(run(required, otherDigest).allowed, false);
    assert.equal(run(ifPresent, otherDigest).allowed, false, 'ifPresent never accepts an invalid signature');
    const auditor = evidenceOf({ keys: [alice], publishes: [publishRecord(alice, { sha512: SHA })] });
    assert.match(run(required, auditor).summary, /not enrolled for the publish role/);
  });

  it('is pure: the same input gives the same decision', () => {
    const evidence = withKeys({ audits: [auditRecord(alice, { sha512: SHA })] });
    assert.deepEqual(run(two, evidence), run(two, evidence));
  });
});
