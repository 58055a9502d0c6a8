import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { releaseAgeCheck } from '../../../src/verify/release-age.js';

const DAY = 86_400_000;
const PUBLISHED = Date.parse('2025-03-01T12:00:00.000Z');

describe('releaseAgeCheck', () => {
  it('passes at exactly the minimum age and after, with eligibleAt', () => {
    for (const now of [PUBLISHED + 3 * DAY, PUBLISHED + 30 * DAY]) {
      const r = releaseAgeCheck(PUBLISHED, 3 * DAY, now);
      assert.equal(r.ok, true);
      assert.equal(r.eligibleAt, PUBLISHED + 3 * DAY);
      assert.equal(r.reason, undefined);
    }
    assert.equal(releaseAgeCheck(PUBLISHED, 3 * DAY, PUBLISHED + 3 * DAY).detail, 'published 3d ago (minimum 3d)');
  });

  it('fails one millisecond before, saying when it will pass', () => {
    const r = releaseAgeCheck(PUBLISHED, 3 * DAY, PUBLISHED + 3 * DAY - 1);
    assert.equal(r.ok, false);
    assert.equal(r.reason, 'too-recent');
    assert.equal(r.eligibleAt, PUBLISHED + 3 * DAY);
    assert.equal(r.detail, 'published 2d 23h ago; the minimum release age is 3d, so it is allowed from 2025-03-04T12:00:00.000Z');
  });

  it('keeps a version published in the future in quarantine', () => {
    const r = releaseAgeCheck(PUBLISHED + DAY, DAY, PUBLISHED);
    assert.equal(r.ok, false);
    assert.equal(r.eligibleAt, PUBLISHED + 2 * DAY);
    assert.match(r.detail, /published in the future \(2025-03-02T12:00:00\.000Z\)/);
  });

  it('fails closed on an unknown publish time', () => {
    const r = releaseAgeCheck(undefined, 3 * DAY, PUBLISHED);
    assert.deepEqual(r, {
      ok: false,
      reason: 'unknown-publish-time',
      detail: 'the packument has no publish time for this version, so it cannot be shown to be 3d old',
    });
    assert.equal(releaseAgeCheck(Number.NaN, 3 * DAY, PUBLISHED).reason, 'unknown-publish-time');
  });

  it('always passes with a minimum of 0', () => {
    assert.deepEqual(releaseAgeCheck(undefined, 0, PUBLISHED), { ok: true, detail: 'no minimum release age' });
    assert.equal(releaseAgeCheck(PUBLISHED + DAY, 0, PUBLISHED).ok, true);
  });

  it('refuses a minimum that is not a duration', () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => releaseAgeCheck(PUBLISHED, bad, PUBLISHED), RangeError);
    }
  });
});
