import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { accessLog, createLogger, type AccessFields } from '../../src/log.js';

function sinkLogger(level: 'info' | 'warn') {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger(level, sink), lines };
}

const cases: AccessFields[] = [
  { id: 'r1', method: 'GET', url: '/vary', status: 200, ms: 0.3, route: 'packument', mode: 'verify', cache: 'hit', code: undefined, error: undefined },
  { id: 'abc:1.2', method: 'HEAD', url: '/a"b\\c\u2028d?x=é', status: 404, ms: 12, route: 'other', mode: 'local', cache: undefined, code: 'ECS_NOT_FOUND', error: 'no "such" thing\nhere' },
  { id: 'r2', method: undefined, url: undefined, status: 499, ms: 1500.5, route: 'tarball', mode: 'verify', cache: 'stale', code: 'ECS_X', error: 'x' },
];

test('the access line is the line pino would write for the same fields', async () => {
  const hand = sinkLogger('info');
  const viaPino = sinkLogger('info');
  const write = accessLog(hand.logger);
  const child = viaPino.logger.child({}, { redact: { paths: [] } });
  for (const f of cases) {
    const level = f.status >= 500 || f.status === 499 ? 'warn' : 'info';
    write(level, f);
    const fields = { req: f.id, id: f.id, method: f.method, url: f.url, status: f.status, ms: f.ms, route: f.route, mode: f.mode, cache: f.cache, code: f.code, error: f.error };
    child[level](fields, 'request');
  }
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(hand.lines.length, cases.length);
  hand.lines.forEach((line, i) => {
    const ours = JSON.parse(line) as Record<string, unknown>;
    const theirs = JSON.parse(viaPino.lines[i]!) as Record<string, unknown>;
    assert.ok(typeof ours['time'] === 'string' && !Number.isNaN(Date.parse(ours['time'])), line);
    delete ours['time'];
    delete theirs['time'];
    // Same keys in the same order, same values.
    assert.deepEqual(Object.entries(ours), Object.entries(theirs));
  });
});

test('the access line honours the configured level', async () => {
  const { logger, lines } = sinkLogger('warn');
  const write = accessLog(logger);
  write('info', cases[0]!);
  write('warn', cases[2]!);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(lines.length, 1);
  assert.equal((JSON.parse(lines[0]!) as { level: string }).level, 'warn');
});
