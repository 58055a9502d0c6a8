import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { isCountersignError } from '../../../src/errors.js';
import { readCapped, type BodySink } from '../../../src/upstream/client.js';

const chunks = (sizes: readonly number[]) => Readable.from(sizes.map((n, i) => Buffer.alloc(n, 97 + i)));

/** A sink that records each chunk and returns its own bytes, so that the test sees which body comes back. */
function recordingSink(seen: string[]): BodySink {
  return {
    push: (chunk) => seen.push(chunk.toString()),
    get bytes() {
      return Buffer.from(`sink:${seen.join('')}`);
    },
  };
}

describe('readCapped', () => {
  it('joins the chunks', async () => {
    assert.equal((await readCapped(chunks([3, 4, 1]), 100, 'up', 'a body', 'x.max')).toString(), 'aaabbbbc');
    assert.equal((await readCapped(chunks([5]), 100, 'up', 'a body', 'x.max')).toString(), 'aaaaa');
  });

  it("or hands each chunk to a sink as it is accepted, and returns the sink's body", async () => {
    const seen: string[] = [];
    const body = await readCapped(chunks([3, 4, 1]), 100, 'up', 'a body', 'x.max', { into: recordingSink(seen) });
    assert.deepEqual(seen, ['aaa', 'bbbb', 'c']);
    assert.equal(body.toString(), 'sink:aaabbbbc');
  });

  it('refuses a body over the cap', async () => {
    const seen: string[] = [];
    await assert.rejects(readCapped(chunks([60, 60]), 100, 'up', 'a body', 'x.max', { into: recordingSink(seen) }), (err) => isCountersignError(err) && err.code === 'ECS_UPSTREAM_TOO_LARGE' && /x\.max/.test(err.message));
    assert.deepEqual(seen.map((c) => c.length), [60], 'the chunk over the cap never reaches the sink');
  });
});
