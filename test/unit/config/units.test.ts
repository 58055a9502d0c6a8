import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSize } from '../../../src/config/units.js';

describe('parseSize', () => {
  it('reads decimal and binary units and plain bytes', () => {
    assert.equal(parseSize('512KB'), 512_000);
    assert.equal(parseSize('64MB'), 64_000_000);
    assert.equal(parseSize('1GiB'), 1024 ** 3);
    assert.equal(parseSize('1.5 MiB'), 1_572_864);
    assert.equal(parseSize(4096), 4096);
    assert.equal(parseSize('100B'), 100);
  });

  it('refuses garbage, saying what is expected', () => {
    for (const bad of ['-1MB', 'lots', '1TB', '', -5, 1.5]) {
      assert.throws(() => parseSize(bad), /expected a size like 512KB, 64MB or 10GB/, String(bad));
    }
  });
});
