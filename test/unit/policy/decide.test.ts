import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicy, type RawRequireSet } from '../../../src/policy/compile.js';
import { decide, type DecisionInput } from '../../../src/policy/decide.js';
import type { VerifyRule } from '../../../src/policy/types.js';
import type { SignatureVerdict } from '../../../src/verify/types.js';
import { testVersionFacts } from '../../helpers/registry-key.js';

const DAY = 86_400_000;
const NOW = Date.parse('2024-06-10T00:00:00Z');

function rule(require: RawRequireSet, onViolation: 'hide' | 'warn' = 'hide'): VerifyRule {
  const policy = compilePolicy({ rules: [{ match: ['**'], require, onViolation }] }, ['npmjs']);
  const r = policy.rules[0]!;
  assert.equal(r.mode, 'verify');
  return r as VerifyRule;
}

const VALID: SignatureVerdict = { status: 'valid', keyid: 'k', detail: 'signed by k' };

function input(overrides: Partial<DecisionInput> = {}): DecisionInput {
  return { facts: testVersionFacts({ publishedAt: NOW - 10 * DAY }), signature: VALID, tarballOriginAllowed: true, tampered: false, now: NOW, ...overrides };
}

describe('decide', () => {
  it('allows a signed, sha512, old-enough version and lists its checks', () => {
    const d = decide(rule({ minReleaseAge: '3d' }), input());
    assert.equal(d.allowed, true);
    assert.deepEqual(d.reasons, []);
    assert.deepEqual(d.checks.map((c) => c.check), ['integrity', 'registry-signature', 'release-age']);
    assert.equal(d.revisitAt, undefined);
  });

  it('hides each signature failure under required, with its own reason', () => {
    const cases: Array<[SignatureVerdict['status'], string]> = [
      ['missing', 'signature-missing'],
      ['invalid', 'signature-invalid'],
      ['unknown-key', 'signature-unknown-key'],
      ['expired-key', 'signature-expired-key'],
      ['no-keys', 'signature-no-keys'],
    ];
    for (const [status, reason] of cases) {
      const d = decide(rule({}), input({ signature: { status, detail: status } }));
      assert.equal(d.allowed, false, status);
      assert.deepEqual(d.reasons, [reason]);
    }
  });

  it('ifPresent accepts what cannot be checked, never what fails to check', () => {
    const r = rule({ registrySignature: 'ifPresent' });
    assert.equal(decide(r, input({ signature: { status: 'missing', detail: '' } })).allowed, true);
    assert.equal(decide(r, input({ signature: { status: 'no-keys', detail: '' } })).allowed, true);
    for (const status of ['invalid', 'unknown-key', 'expired-key'] as const) {
      assert.equal(decide(r, input({ signature: { status, detail: '' } })).allowed, false, status);
    }
    assert.equal(decide(rule({ registrySignature: 'off' }), input({ signature: { status: 'invalid', detail: '' } })).allowed, true);
  });

  it('hides a version that is too young, and says when it becomes eligible', () => {
    const published = NOW - DAY;
    const d = decide(rule({ minReleaseAge: '3d' }), input({ facts: testVersionFacts({ publishedAt: published }) }));
    assert.equal(d.allowed, false);
    assert.deepEqual(d.reasons, ['release-age']);
    assert.equal(d.revisitAt, published + 3 * DAY);
  });

  it('needs a sha512 unless integrity is any', () => {
    const sha1Only = testVersionFacts({ integrity: 'sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=', sha512: undefined, sha1: 'da39a3ee5e6b4b0d3255bfef95601890afd80709' });
    assert.deepEqual(decide(rule({}), input({ facts: sha1Only })).reasons, ['integrity']);
    assert.equal(decide(rule({ integrity: 'any' }), input({ facts: sha1Only })).allowed, true);
  });

  it('always hides tampered versions and tarballs on foreign hosts, whatever the rule', () => {
    const lax = rule({ integrity: 'any', registrySignature: 'off' });
    assert.deepEqual(decide(lax, input({ tampered: true })).reasons, ['tampered']);
    const foreign = decide(lax, input({ tarballOriginAllowed: false, facts: testVersionFacts({ tarball: 'https://evil.example/x.tgz' }) }));
    assert.deepEqual(foreign.reasons, ['tarball-origin']);
    assert.match(foreign.summary, /https:\/\/evil\.example/);
  });

  it('anyOf passes when one alternative passes, and reports every failure otherwise', () => {
    const r = rule({ registrySignature: 'off', anyOf: [{ minReleaseAge: '7d' }, { registrySignature: 'required' }] });
    const young = testVersionFacts({ publishedAt: NOW - DAY });
    assert.equal(decide(r, input({ facts: young })).allowed, true, 'signed: the second alternative passes');
    const unsigned = decide(r, input({ facts: young, signature: { status: 'missing', detail: 'no sig' } }));
    assert.equal(unsigned.allowed, false);
    assert.deepEqual([...unsigned.reasons].sort(), ['release-age', 'signature-missing']);
    assert.equal(unsigned.revisitAt, NOW - DAY + 7 * DAY);
  });

  it('warn serves the version but keeps the reasons', () => {
    const d = decide(rule({ minReleaseAge: '3d' }, 'warn'), input({ facts: testVersionFacts({ publishedAt: NOW }) }));
    assert.equal(d.allowed, true);
    assert.equal(d.warned, true);
    assert.deepEqual(d.reasons, ['release-age']);
  });

  it('defaults merge under the rule, the rule winning', () => {
    const policy = compilePolicy({
      defaults: { require: { integrity: 'any', minReleaseAge: '1d' } },
      rules: [{ match: ['@acme/*'], mode: 'fast', upstream: 'internal' }, { match: ['**'], require: { minReleaseAge: '5d' } }],
    }, ['npmjs', 'internal']);
    const verify = policy.ruleFor('left-pad') as VerifyRule;
    assert.deepEqual(verify.require.base, { integrity: 'any', registrySignature: 'required', minReleaseAgeMs: 5 * DAY });
    assert.equal(verify.upstream, 'npmjs', 'the first upstream by default');
    assert.equal(policy.ruleFor('@acme/x')?.mode, 'fast');
    assert.match(policy.hash, /^[0-9a-f]{16}$/);
  });
});
