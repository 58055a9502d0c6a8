import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignatureResults } from '../../../src/verify/signature-results.js';

describe('SignatureResults', () => {
  it('answers only for the exact key, message and signature', () => {
    const results = new SignatureResults();
    results.set('k1', 'a@1.0.0:sha512-x', 'sig', true);
    assert.equal(results.get('k1', 'a@1.0.0:sha512-x', 'sig'), true);
    assert.equal(results.get('k2', 'a@1.0.0:sha512-x', 'sig'), undefined, 'another key');
    assert.equal(results.get('k1', 'a@1.0.1:sha512-x', 'sig'), undefined, 'the same signature copied onto another version');
    assert.equal(results.get('k1', 'a@1.0.0:sha512-x', 'sig2'), undefined);
    assert.equal(results.has('k1', 'a@1.0.0:sha512-x', 'sig'), true);
  });

  it('keeps a copied signature apart from the original, and overwrites a triple in place', () => {
    const results = new SignatureResults();
    results.set('k1', 'a@1.0.0:i', 'sig', true);
    results.set('k1', 'a@6.6.6:i', 'sig', false);
    results.set('k2', 'a@1.0.0:i', 'sig', false);
    assert.equal(results.size, 3);
    assert.equal(results.get('k1', 'a@1.0.0:i', 'sig'), true);
    assert.equal(results.get('k1', 'a@6.6.6:i', 'sig'), false);
    results.set('k1', 'a@6.6.6:i', 'sig', true);
    assert.equal(results.size, 3);
    assert.equal(results.get('k1', 'a@6.6.6:i', 'sig'), true);
  });

  it('retainOnly drops what is not live and keeps the rest', () => {
    const results = new SignatureResults();
    for (let i = 0; i < 10; i++) results.set('k', `a@1.0.${i}:i`, `s${i}`, i % 2 === 0);
    results.retainOnly([
      { key: 'k', message: 'a@1.0.2:i', sig: 's2' },
      { key: 'k', message: 'a@1.0.3:i', sig: 's3' },
      { key: 'k', message: 'a@1.0.99:i', sig: 's99' },
    ]);
    assert.equal(results.size, 2);
    assert.equal(results.get('k', 'a@1.0.2:i', 's2'), true);
    assert.equal(results.get('k', 'a@1.0.3:i', 's3'), false);
    assert.equal(results.get('k', 'a@1.0.4:i', 's4'), undefined);
  });
});
