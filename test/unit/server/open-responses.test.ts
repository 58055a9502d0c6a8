import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OpenResponses, type Linkable } from '../../../src/server/open-responses.js';

const response = (id: number) => ({ id, openPrev: undefined, openNext: undefined, isOpen: false }) as Linkable & { id: number };
const ids = (open: OpenResponses<Linkable & { id: number }>) => open.snapshot().map((r) => r.id).sort((a, b) => a - b);

describe('OpenResponses', () => {
  it('holds what was added and not deleted, whatever the order', () => {
    const open = new OpenResponses<Linkable & { id: number }>();
    const all = [0, 1, 2, 3, 4].map(response);
    for (const r of all) open.add(r);
    assert.equal(open.snapshot().length, 5);
    open.delete(all[2]!); // middle
    open.delete(all[4]!); // head (the last added)
    open.delete(all[0]!); // tail
    assert.deepEqual(ids(open), [1, 3]);
    assert.equal(open.snapshot().length, 2);
    open.add(all[4]!);
    assert.deepEqual(ids(open), [1, 3, 4]);
    for (const r of all) open.delete(r);
    assert.deepEqual(ids(open), []);
    assert.equal(open.snapshot().length, 0);
  });

  it('ignores a second add or a delete of what it does not hold', () => {
    const open = new OpenResponses<Linkable & { id: number }>();
    const [a, b] = [response(1), response(2)];
    open.add(a);
    open.add(a);
    open.delete(b);
    assert.equal(open.snapshot().length, 1);
    open.delete(a);
    open.delete(a);
    assert.equal(open.snapshot().length, 0);
    assert.deepEqual(ids(open), []);
  });

  it('gives a snapshot that stays whole while the caller deletes', () => {
    const open = new OpenResponses<Linkable & { id: number }>();
    for (let i = 0; i < 100; i++) open.add(response(i));
    const seen: number[] = [];
    for (const r of open.snapshot()) {
      seen.push(r.id);
      open.delete(r);
    }
    assert.equal(seen.length, 100);
    assert.equal(open.snapshot().length, 0);
  });

  it('keeps up with a random mix of adds and deletes, like a Set', () => {
    const open = new OpenResponses<Linkable & { id: number }>();
    const model = new Set<number>();
    const all = Array.from({ length: 32 }, (_, i) => response(i));
    let seed = 7;
    for (let step = 0; step < 5000; step++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const r = all[seed % 32]!;
      if ((seed >> 8) % 2 === 0) {
        open.add(r);
        model.add(r.id);
      } else {
        open.delete(r);
        model.delete(r.id);
      }
      assert.equal(open.snapshot().length, model.size);
    }
    assert.deepEqual(ids(open), [...model].sort((a, b) => a - b));
  });
});
