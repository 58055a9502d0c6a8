import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { isCountersignError } from '../../../src/errors.js';
import { readCapped } from '../../../src/upstream/client.js';

const chunks = (sizes: readonly number[]) => Readable.from(sizes.map((n, i) => Buffer.alloc(n, 97 + i)));

describe('readCapped', () => {
  it('joins the chunks, in shared memory from sharedFrom bytes on', async () => {
    const plain = await readCapped(chunks([3, 4]), 100, 'up', 'a body', 'x.max', { sharedFrom: 8 });
    assert.equal(plain.toString(), 'aaabbbb');
    assert.ok(!(plain.buffer instanceof SharedArrayBuffer));
    const shared = await readCapped(chunks([3, 4, 1]), 100, 'up', 'a body', 'x.max', { sharedFrom: 8 });
    assert.equal(shared.toString(), 'aaabbbbc');
    assert.ok(shared.buffer instanceof SharedArrayBuffer);
    assert.equal(shared.length, 8);
  });

  it('refuses a body over the cap, shared or not', async () => {
    await assert.rejects(readCapped(chunks([60, 60]), 100, 'up', 'a body', 'x.max', { sharedFrom: 8 }), (err) => isCountersignError(err) && err.code === 'ECS_UPSTREAM_TOO_LARGE' && /x\.max/.test(err.message));
  });
});
