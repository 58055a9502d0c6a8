import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, parseDuration } from '../../../src/verify/duration.js';
import { parseDuration as fromReleaseAge } from '../../../src/verify/release-age.js';

describe('parseDuration', () => {
  it('reads each unit', () => {
    const cases: Array<[string | number, number]> = [
      [0, 0],
      ['0', 0],
      ['250ms', 250],
      ['90s', 90_000],
      ['15m', 900_000],
      ['12h', 43_200_000],
      ['3d', 259_200_000],
      ['2w', 1_209_600_000],
      [' 3d ', 259_200_000],
      ['0d', 0],
    ];
    for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, String(text));
    assert.equal(fromReleaseAge, parseDuration);
  });

  it('refuses bare numbers, other units and garbage, saying what is expected', () => {
    for (const bad of [3600, '3600', -1, '-3d', '3 d', '1.5h', '3D', '3days', 'd', '', 'soon', Number.NaN, '3d12h']) {
      assert.throws(() => parseDuration(bad), { message: /expected a duration like 3d, 12h, 30m, 90s, 2w or 0/ }, String(bad));
    }
    assert.throws(() => parseDuration('99999999999999999w'), /too large/);
  });
});

describe('formatDuration', () => {
  it('shows the largest unit and the next one when not zero', () => {
    assert.equal(formatDuration(0), '0ms');
    assert.equal(formatDuration(250), '250ms');
    assert.equal(formatDuration(90_000), '1m 30s');
    assert.equal(formatDuration(3 * 86_400_000), '3d');
    assert.equal(formatDuration(3 * 86_400_000 + 4 * 3_600_000 + 5_000), '3d 4h');
    assert.equal(formatDuration(86_400_000 + 5_000), '1d');
    assert.equal(formatDuration(-7_200_000), '-2h');
  });
});
