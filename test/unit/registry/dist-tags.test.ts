import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import semver from 'semver';
import { repointDistTags, type AllowedVersion } from '../../../src/registry/dist-tags.js';
import { versionArb } from '../../helpers/packument-gen.js';

/** `allowed('1.0.0', '1.1.0!')`: a trailing `!` marks a deprecated version. */
function allowed(...specs: string[]): Map<string, AllowedVersion> {
  return new Map(specs.map((spec) => [spec.replace(/!$/, ''), { deprecated: spec.endsWith('!') }]));
}

function repoint(tags: Record<string, string>, ...specs: string[]) {
  return repointDistTags(new Map(Object.entries(tags)), allowed(...specs));
}

test('a tag on an allowed version stays, even on a deprecated one', () => {
  const { tags, moved } = repoint({ latest: '1.0.0', next: '2.0.0-beta.1' }, '1.0.0!', '1.1.0', '2.0.0-beta.1', '2.0.0-beta.2');
  assert.deepEqual([...tags], [['latest', '1.0.0'], ['next', '2.0.0-beta.1']]);
  assert.deepEqual(moved, []);
});

test('a tag on a hidden version moves to the highest allowed version of the same major', () => {
  const { tags, moved } = repoint({ latest: '1.4.0', v0: '0.9.0' }, '0.1.0', '0.8.5', '1.0.0', '1.3.9', '2.0.0', '1.4.0-rc.1');
  assert.equal(tags.get('latest'), '1.3.9');
  assert.equal(tags.get('v0'), '0.8.5');
  assert.deepEqual(moved, [
    { tag: 'latest', from: '1.4.0', to: '1.3.9' },
    { tag: 'v0', from: '0.9.0', to: '0.8.5' },
  ]);
});

test('a prerelease tag stays on a prerelease, a stable tag on a stable version', () => {
  const { tags } = repoint(
    { next: '2.0.0-beta.3', stable2: '2.1.0', latest: '1.0.0' },
    '1.0.0', '2.0.0', '2.0.0-beta.1', '2.0.0-beta.2', '2.5.0-alpha.0',
  );
  assert.equal(tags.get('next'), '2.5.0-alpha.0', 'the highest prerelease of major 2, not 2.0.0');
  assert.equal(tags.get('stable2'), '2.0.0', 'not a higher prerelease');
});

test('deprecated versions are avoided when the line has a non-deprecated one', () => {
  assert.equal(repoint({ latest: '1.9.0' }, '1.0.0', '1.5.0!', '1.6.0!').tags.get('latest'), '1.0.0');
  assert.equal(repoint({ beta: '3.0.0-beta.9' }, '3.0.0-beta.1', '3.0.0-beta.2!').tags.get('beta'), '3.0.0-beta.1');
});

test('when every candidate is deprecated, the highest deprecated one is used', () => {
  assert.equal(repoint({ latest: '1.9.0', other: '1.8.0' }, '1.0.0!', '1.5.0!', '2.0.0').tags.get('other'), '1.5.0');
  assert.equal(repoint({ latest: '1.9.0' }, '1.0.0!', '1.5.0!').tags.get('latest'), '1.5.0');
});

test('a tag with no allowed version in its line is dropped', () => {
  const { tags, moved } = repoint({ latest: '2.0.0', v1: '1.2.0', canary: '3.0.0-canary.1' }, '2.0.0', '3.0.0', '1.0.0-rc.1');
  assert.deepEqual([...tags], [['latest', '2.0.0']]);
  assert.deepEqual(moved, [
    { tag: 'v1', from: '1.2.0', to: null },
    { tag: 'canary', from: '3.0.0-canary.1', to: null },
  ]);
});

test('latest with nothing left in its line falls back to the highest allowed stable version', () => {
  const { tags, moved } = repoint({ latest: '3.0.0' }, '1.0.0', '2.0.0!', '2.1.0', '2.2.0-rc.1');
  assert.equal(tags.get('latest'), '2.1.0');
  assert.deepEqual(moved, [{ tag: 'latest', from: '3.0.0', to: '2.1.0' }]);
  assert.equal(repoint({ latest: '3.0.0' }, '1.0.0!', '2.0.0!').tags.get('latest'), '2.0.0');
});

test('a missing latest is added on the highest allowed stable non-deprecated version, first', () => {
  const { tags, moved } = repoint({ next: '2.0.0-rc.1' }, '1.0.0', '1.1.0', '1.2.0!', '2.0.0-rc.1');
  assert.deepEqual([...tags], [['latest', '1.1.0'], ['next', '2.0.0-rc.1']]);
  assert.deepEqual(moved, [{ tag: 'latest', from: null, to: '1.1.0' }]);
  assert.equal(repoint({}, '1.0.0!', '1.2.0!').tags.get('latest'), '1.2.0');
});

test('latest is dropped when no stable version is allowed', () => {
  const { tags, moved } = repoint({ latest: '1.0.0' }, '2.0.0-rc.1');
  assert.equal(tags.has('latest'), false);
  assert.deepEqual(moved, [{ tag: 'latest', from: '1.0.0', to: null }]);
  assert.equal(repoint({}, '2.0.0-rc.1').tags.has('latest'), false);
  assert.equal(repoint({ latest: '1.0.0' }).tags.size, 0);
});

test('latest on an allowed prerelease stays (prerelease-only packages keep installing)', () => {
  assert.equal(repoint({ latest: '1.0.0-rc.2' }, '1.0.0-rc.1', '1.0.0-rc.2').tags.get('latest'), '1.0.0-rc.2');
});

test('a tag naming a version that is not in versions, or no version at all, moves or is dropped', () => {
  const { tags } = repoint({ latest: 'garbage', old: '1.99.0', junk: '', huge: `1.0.0-${'x'.repeat(1000)}` }, '1.0.0', '1.2.0');
  assert.deepEqual([...tags], [['latest', '1.2.0'], ['old', '1.2.0']]);
});

test('build metadata never makes the choice depend on map order', () => {
  const a = repoint({ latest: '2.0.0' }, '1.0.0+b', '1.0.0+a').tags.get('latest');
  const b = repoint({ latest: '2.0.0' }, '1.0.0+a', '1.0.0+b').tags.get('latest');
  assert.equal(a, b);
});

test('property: tags name allowed versions, stay when allowed, keep their line when moved', () => {
  const tagArb = fc.uniqueArray(fc.tuple(fc.constantFrom('latest', 'next', 'beta', 'v1', 'v2'), versionArb), { selector: ([t]) => t, maxLength: 5 });
  const allowedArb = fc.uniqueArray(fc.tuple(versionArb, fc.boolean()), { selector: ([v]) => v, maxLength: 12 });
  fc.assert(
    fc.property(tagArb, allowedArb, (tagList, allowedList) => {
      const allowedMap = new Map(allowedList.map(([v, deprecated]) => [v, { deprecated }]));
      const input = new Map<string, string>(tagList);
      const { tags } = repointDistTags(input, allowedMap);
      const hasStable = [...allowedMap.keys()].some((v) => semver.prerelease(v) === null);
      for (const [tag, version] of tags) {
        assert.ok(allowedMap.has(version), `${tag} -> ${version} is not allowed`);
        const from = input.get(tag);
        if (from === undefined) continue;
        if (allowedMap.has(from)) assert.equal(version, from);
        else if (tag !== 'latest') {
          assert.equal(semver.major(version), semver.major(from));
          assert.equal(semver.prerelease(version) === null, semver.prerelease(from) === null);
        }
      }
      if (hasStable) assert.ok(tags.has('latest'), 'latest must exist while a stable version is allowed');
      else if (tags.has('latest')) assert.notEqual(semver.prerelease(tags.get('latest') ?? ''), null);
    }),
    { numRuns: 200 },
  );
});
