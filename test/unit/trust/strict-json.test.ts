import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBase64Strict } from '../../../src/trust/base64.js';
import { parseStrictJson, StrictJsonError } from '../../../src/trust/strict-json.js';

const LIMITS = { maxBytes: 1024 };

describe('parseStrictJson', () => {
  it('parses what JSON.parse parses', () => {
    const text = '{"a":[1,-2.5e3,true,false,null,"x\\u0041\\n"],"b":{"c":{}},"d":[]}';
    assert.deepEqual(parseStrictJson(text, LIMITS), JSON.parse(text));
    assert.deepEqual(parseStrictJson(Buffer.from(' \n[ 1 , 2 ]\t'), LIMITS), [1, 2]);
  });

  it('rejects duplicate keys, also when only their escapes differ', () => {
    assert.throws(() => parseStrictJson('{"kind":"full","kind":"violation"}', LIMITS), /duplicate key "kind"/);
    assert.throws(() => parseStrictJson('{"a":{"k":1,"\\u006b":2}}', LIMITS), /duplicate key "k"/);
    assert.deepEqual(parseStrictJson('{"a":{"k":1},"b":{"k":2}}', LIMITS), { a: { k: 1 }, b: { k: 2 } });
  });

  it('enforces the size cap in bytes of UTF-8 and the depth cap', () => {
    assert.throws(() => parseStrictJson(`"${'é'.repeat(600)}"`, LIMITS), /over the 1024-byte cap/);
    assert.throws(() => parseStrictJson('[[[[1]]]]', { maxBytes: 100, maxDepth: 3 }), /nesting deeper than 3/);
    assert.deepEqual(parseStrictJson('[[[1]]]', { maxBytes: 100, maxDepth: 3 }), [[[1]]]);
  });

  it('rejects what is not exactly one JSON value', () => {
    for (const bad of ['', '{"a":1}x', '{"a":1,}', '[1,]', "{'a':1}", '{"a":01}', 'NaN', '"\u0001"', '{"a" 1}', '\ufeff{}']) {
      assert.throws(() => parseStrictJson(bad, LIMITS), StrictJsonError, JSON.stringify(bad));
    }
    assert.throws(() => parseStrictJson(Buffer.from([0x22, 0xff, 0x22]), LIMITS), /not valid UTF-8/);
  });

  it('keeps __proto__ as data', () => {
    const value = parseStrictJson('{"__proto__":{"polluted":true}}', LIMITS) as Record<string, unknown>;
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.ok(Object.hasOwn(value, '__proto__'));
  });
});

describe('decodeBase64Strict', () => {
  it('accepts canonical padded base64 only', () => {
    assert.deepEqual(decodeBase64Strict('aGk='), Buffer.from('hi'));
    for (const bad of ['aGk', 'aGl=', 'aG k=', 'aGk==', 'a-_=', 'aGk=\n']) assert.equal(decodeBase64Strict(bad), undefined, bad);
  });
});
