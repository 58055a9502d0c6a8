import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { isCountersignError } from '../../../src/errors.js';
import { readCapped } from '../../../src/upstream/client.js';

const chunks = (sizes: readonly number[]) => Readable.from(sizes.map((n, i) => Buffer.alloc(n, 97 + i)));

describe('readCapped', () => {
  it('joins the chunks, and shows each one to onChunk as it is accepted', async () => {
    const seen: string[] = [];
    const body = await readCapped(chunks([3, 4, 1]), 100, 'up', 'a body', 'x.max', { onChunk: (c) => seen.push(c.toString()) });
    assert.equal(body.toString(), 'aaabbbbc');
    assert.deepEqual(seen, ['aaa', 'bbbb', 'c']);
  });

  it('refuses a body over the cap', async () => {
    const seen: number[] = [];
    await assert.rejects(readCapped(chunks([60, 60]), 100, 'up', 'a body', 'x.max', { onChunk: (c) => seen.push(c.length) }), (err) => isCountersignError(err) && err.code === 'ECS_UPSTREAM_TOO_LARGE' && /x\.max/.test(err.message));
    assert.deepEqual(seen, [60], 'the chunk over the cap is not shown');
  });
});
