import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePackument } from '../../../src/registry/parse.js';
import { MAX_NESTING, nestedDeeperThan } from '../../../src/registry/untrusted.js';

/** An array nesting `levels` deep around 1 (levels = 0 is the number itself). */
function nest(levels: number): unknown {
  return JSON.parse(`${'['.repeat(levels)}1${']'.repeat(levels)}`);
}

test('nestedDeeperThan counts object and array levels, and never recurses past the limit', () => {
  assert.equal(nestedDeeperThan(1, 0), false);
  assert.equal(nestedDeeperThan({}, 0), true);
  assert.equal(nestedDeeperThan(nest(3), 3), false);
  assert.equal(nestedDeeperThan(nest(4), 3), true);
  assert.equal(nestedDeeperThan({ a: [{ b: 1 }] }, 3), false);
  assert.equal(nestedDeeperThan({ a: [{ b: {} }] }, 3), true);
  // 200,000 levels: JSON.stringify would overflow the stack; this only walks MAX_NESTING of them.
  assert.equal(nestedDeeperThan(nest(200_000), MAX_NESTING), true);
});

test(`a manifest nested ${MAX_NESTING} levels is kept, one level more is malformed`, () => {
  const manifest = (levels: number) => ({ name: 'n', version: '1.0.0', x: nest(levels - 1), dist: { integrity: 'sha512-x' } });
  const ok = parsePackument({ name: 'n', versions: { '1.0.0': manifest(MAX_NESTING) } }, 'n');
  assert.deepEqual([...ok.versions.keys()], ['1.0.0']);
  const deep = parsePackument({ name: 'n', versions: { '1.0.0': manifest(MAX_NESTING + 1) } }, 'n');
  assert.deepEqual([...deep.versions.keys()], []);
  assert.match(deep.malformed[0]!.reason, /nested deeper than 64 levels/);
});

test(`a top-level field nested deeper than the document allows is dropped, the rest kept`, () => {
  const parsed = parsePackument({ name: 'n', description: 'kept', repository: nest(MAX_NESTING), bugs: nest(MAX_NESTING - 1), time: { unpublished: { v: nest(MAX_NESTING) } } }, 'n');
  assert.deepEqual(Object.keys(parsed.doc).sort(), ['bugs', 'description', 'name']);
  assert.equal(parsed.unpublished, undefined);
});
