import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import semver from 'semver';
import { isValidVersion } from '../../../src/registry/name.js';

const semverSays = (v: string) => v.length <= 256 && semver.valid(v) === v;

describe('isValidVersion', () => {
  it('agrees with semver on plain, prerelease and hostile versions', () => {
    for (const v of ['0.0.0', '1.2.3', '10.20.30', '999999999999999.0.0', '9999999999999999.0.0', '9007199254740992.0.0', '01.2.3', '1.02.3', '1.2.03', 'v1.2.3', '=1.2.3', ' 1.2.3', '1.2.3 ', '1.2', '1.2.3.4', '1.2.3-beta.1', '1.2.3+build', '1.2.3-01', '', '1.2.3\n']) {
      assert.equal(isValidVersion(v), semverSays(v), JSON.stringify(v));
    }
  });

  it('agrees with semver on generated versions', () => {
    const part = fc.oneof(fc.nat({ max: 1000 }).map(String), fc.stringMatching(/^[0-9]{1,18}$/));
    const version = fc.tuple(part, part, part, fc.constantFrom('', '-rc.1', '-0', '-01', '+b', '.1', 'x', '\n')).map(([a, b, c, tail]) => `${a}.${b}.${c}${tail}`);
    fc.assert(fc.property(fc.oneof(version, fc.string()), (v) => isValidVersion(v) === semverSays(v)), { numRuns: 2000 });
  });

  it('agrees with semver on generated prereleases', () => {
    const main = fc.tuple(fc.nat({ max: 99 }), fc.nat({ max: 99 }), fc.nat({ max: 99 })).map((parts) => parts.join('.'));
    const identifier = fc.oneof(
      fc.stringMatching(/^[0-9]{1,20}$/),
      fc.stringMatching(/^[0-9A-Za-z-]{1,12}$/),
      fc.constantFrom('0', '00', '01', '-', '--', '0a', 'a0', 'dev', '20241122', 'rc', '', 'é', '_', ' '),
    );
    const prerelease = fc.array(identifier, { minLength: 1, maxLength: 6 }).map((ids) => ids.join('.'));
    const version = fc.tuple(main, prerelease, fc.constantFrom('', '', '', '+build', '.', '-', '\n')).map(([m, p, tail]) => `${m}-${p}${tail}`);
    fc.assert(fc.property(version, (v) => isValidVersion(v) === semverSays(v)), { numRuns: 5000 });
    for (const v of ['5.7.0-dev.20241122', '1.0.0-0', '1.0.0-00', '1.0.0-0a', '1.0.0--', '1.0.0-a.', '1.0.0-.a', '1.0.0-a..b', '1.0.0-99999999999999999999', `1.0.0-${'a'.repeat(250)}`]) {
      assert.equal(isValidVersion(v), semverSays(v), JSON.stringify(v));
    }
  });
});
