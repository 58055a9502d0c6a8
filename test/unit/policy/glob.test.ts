import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileGlob, compileGlobs } from '../../../src/policy/glob.js';

describe('package-name globs', () => {
  it('`*` stays within the scope or the name, `**` matches anything', () => {
    const scope = compileGlob('@acme/*');
    assert.ok(scope('@acme/widget'));
    assert.ok(!scope('@acme-oss/widget'));
    assert.ok(!scope('acme/widget'));
    const star = compileGlob('*');
    assert.ok(star('left-pad'));
    assert.ok(!star('@types/node'), 'a single * does not cross the scope separator');
    const any = compileGlob('**');
    assert.ok(any('left-pad') && any('@types/node'));
    assert.ok(compileGlob('@*/eslint-config')('@acme/eslint-config'));
    assert.ok(compileGlob('lodash.*')('lodash.merge'));
    assert.ok(!compileGlob('lodash.*')('lodashxmerge'), 'a dot is literal');
  });

  it('matches exact names exactly', () => {
    const exact = compileGlobs(['event-stream', '@types/*']);
    assert.ok(exact('event-stream'));
    assert.ok(!exact('event-stream2'));
    assert.ok(exact('@types/node'));
  });
});
