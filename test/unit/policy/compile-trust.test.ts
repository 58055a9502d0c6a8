import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../src/config/load.js';
import { isCountersignError } from '../../../src/errors.js';
import type { VerifyRule } from '../../../src/policy/types.js';

function config(require: string, extra = ''): ReturnType<typeof parseConfig> {
  return parseConfig(`
upstreams:
  npmjs: { url: "https://registry.npmjs.org/" }
${extra}
rules:
  - match: ["**"]
    require:
      ${require.split('\n').join('\n      ')}
`, 'test.yaml', { env: {} });
}

function invalid(require: string, message: RegExp, extra = ''): void {
  assert.throws(() => config(require, extra), (err: unknown) => isCountersignError(err, 'ECS_CONFIG_INVALID') && message.test(err.message));
}

describe('policy: trust keys in the config', () => {
  it('compiles audits with their defaults, in the base set and inside anyOf', () => {
    const rule = config('audits: { allOf: [acme/alice, acme/bob] }\nanyOf:\n  - { minReleaseAge: 3d }\n  - { audits: { criteria: [safe-to-run, crypto-reviewed], minTrust: high }, publisherSignature: ifPresent, exemptions: false }').policy.rules[0] as VerifyRule;
    assert.deepEqual(rule.require.base.audits, { min: 2, criteria: ['safe-to-deploy'], minTrust: 'low', auditors: undefined, allOf: ['acme/alice', 'acme/bob'] });
    const alternative = rule.require.anyOf[1]!;
    assert.deepEqual(alternative.audits?.criteria, ['safe-to-run', 'crypto-reviewed']);
    assert.equal(alternative.audits?.min, 1);
    assert.equal(alternative.publisherSignature, 'ifPresent');
    assert.equal(alternative.exemptions, false);
  });

  it('refuses unknown or malformed audit keys, naming the path', () => {
    invalid('audits: { min: 0 }', /rules\[0\]\.require\.audits\.min: expected a number ≥ 1/);
    invalid('audits: { threshold: 2 }', /rules\[0\]\.require\.audits\.threshold: unknown key "threshold"/);
    invalid('audits: { minTrust: total }', /minTrust: expected one of "low", "medium", "high"/);
    invalid('audits: { auditors: ["alice smith"] }', /auditors\[0\]/);
    invalid('publisherSignature: yes', /publisherSignature: expected one of "required", "ifPresent", "off"/);
    invalid('anyOf:\n  - { audits: { mn: 1 } }', /anyOf\[0\]\.audits\.mn: unknown key/);
  });

  it('reads the trust section with units, and defaults without it', () => {
    const defaults = config('registrySignature: off').trust;
    assert.deepEqual(defaults, { maxKeyValidityMs: 180 * 86_400_000, maxExemptionMs: 365 * 86_400_000, maxDocumentBytes: 64_000, maxEntries: 1_000_000, submissionsPerMinute: 60 });
    const set = config('registrySignature: off', 'trust:\n  maxKeyValidity: 30d\n  maxDocumentSize: 16KB\n  submissionsPerMinute: 0').trust;
    assert.equal(set.maxKeyValidityMs, 30 * 86_400_000);
    assert.equal(set.maxDocumentBytes, 16_000);
    assert.equal(set.submissionsPerMinute, 0);
    invalid('registrySignature: off', /trust\.maxKeyValidity: expected a duration/, 'trust:\n  maxKeyValidity: 6 months');
  });
});
