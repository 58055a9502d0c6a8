import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger, redactSecrets } from '../../src/log.js';

test('the logger redacts Authorization, cookies and tokens wherever countersign puts them', () => {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString('utf8');
      done();
    },
  });
  const logger = createLogger('info', sink);
  logger.info({
    authorization: 'Bearer secret-1',
    token: 'secret-2',
    headers: { authorization: 'Bearer secret-3', cookie: 'session=secret-4' },
    req: { headers: { authorization: 'Basic secret-5', cookie: 'secret-6' } },
    upstream: { name: 'npmjs', token: 'secret-7' },
  }, 'a line');
  for (let i = 1; i <= 7; i++) assert.ok(!out.includes(`secret-${i}`), `secret-${i} in ${out}`);
  assert.match(out, /\[redacted\]/);
  assert.match(out, /"name":"npmjs"/, 'the rest of the line is kept');
});

test('redactSecrets removes credentials from text that may be logged or sent', () => {
  assert.equal(redactSecrets('bad credentials: Bearer abc.DEF-123_x', []), 'bad credentials: Bearer [redacted]');
  assert.equal(redactSecrets('auth basic dXNlcjpwYXNz=', []), 'auth basic [redacted]');
  assert.equal(redactSecrets('see https://user:hunter2@registry.example/x', []), 'see https://[redacted]@registry.example/x');
  assert.equal(redactSecrets('token npm_abcdef appears twice: npm_abcdef', ['npm_abcdef']), 'token [redacted] appears twice: [redacted]');
  assert.equal(redactSecrets('a b c', ['a', '', undefined]), 'a b c', 'secrets under 4 characters would mangle text; they are not configured tokens');
});
