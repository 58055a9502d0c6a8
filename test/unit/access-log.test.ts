import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { accessLog, createLogger, type AccessFields } from '../../src/log.js';
import { LATENCY_BUCKETS, Metrics } from '../../src/metrics.js';

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
  // Lines that repeat the one before but for one field: each part kept from the line before is rebuilt when it must be.
  { id: 'r1b', method: 'GET', url: '/vary', status: 200, ms: 0.25, route: 'packument', mode: 'verify', cache: 'hit', code: undefined, error: undefined },
  { id: 'r1c', method: 'GET', url: '/vary', status: 304, ms: 0.25, route: 'packument', mode: 'verify', cache: 'hit', code: undefined, error: undefined },
  { id: 'r1d', method: 'HEAD', url: '/vary', status: 304, ms: 0.25, route: 'packument', mode: 'verify', cache: 'hit', code: undefined, error: undefined },
  { id: 'r1e', method: 'HEAD', url: '/varz', status: 304, ms: 0.25, route: 'packument', mode: 'verify', cache: 'hit', code: undefined, error: undefined },
  { id: 'r1f', method: 'HEAD', url: '/varz', status: 304, ms: 0.25, route: 'packument', mode: 'verify', cache: 'miss', code: undefined, error: undefined },
  { id: 'r1g', method: 'HEAD', url: '/varz', status: 304, ms: 0.25, route: 'manifest', mode: 'verify', cache: 'miss', code: undefined, error: undefined },
  { id: 'r1h', method: 'HEAD', url: '/varz', status: 304, ms: 0.25, route: 'manifest', mode: 'fast', cache: 'miss', code: undefined, error: undefined },
  { id: 'r1i', method: 'HEAD', url: '/varz', status: 304, ms: 0.25, route: 'manifest', mode: 'fast', cache: 'miss', code: 'ECS_A', error: undefined },
  { id: 'r1j', method: 'HEAD', url: '/varz', status: 304, ms: 0.25, route: 'manifest', mode: 'fast', cache: 'miss', code: 'ECS_A', error: 'a' },
  { id: 'r1k', method: 'HEAD', url: '/varz', status: 304, ms: 0.25, route: 'manifest', mode: 'fast', cache: 'miss', code: 'ECS_A', error: 'b' },
  { id: 'r1l', method: 'HEAD', url: '/varz', status: 304, ms: 0.25, route: 'manifest', mode: 'fast', cache: undefined, code: undefined, error: undefined },
  { id: 'r1m', method: undefined, url: '/varz', status: 304, ms: 0.25, route: 'manifest', mode: 'fast', cache: undefined, code: undefined, error: undefined },
  { id: 'abc:1.2', method: 'HEAD', url: '/a"b\\c\u2028d?x=é', status: 404, ms: 12, route: 'other', mode: 'local', cache: undefined, code: 'ECS_NOT_FOUND', error: 'no "such" thing\nhere' },
  { id: 'r2', method: undefined, url: undefined, status: 499, ms: 1500.5, route: 'tarball', mode: 'verify', cache: 'stale', code: 'ECS_X', error: 'x' },
  // Every ASCII character, each on its own and all together: plain text is quoted as it is, the rest escaped.
  ...Array.from({ length: 129 }, (_, c): AccessFields => {
    const text = c === 128 ? String.fromCharCode(...Array.from({ length: 128 }, (_, i) => i)) : `/a${String.fromCharCode(c)}b`;
    return { id: 'r3', method: 'GET', url: text, status: 400, ms: 0, route: 'other', mode: 'local', cache: undefined, code: 'ECS_BAD_PATH', error: text };
  }),
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

test('the access line honours the configured level, and follows it when it changes', async () => {
  const { logger, lines } = sinkLogger('warn');
  const write = accessLog(logger);
  const levels = () => lines.splice(0).map((line) => (JSON.parse(line) as { level: string }).level);
  const flushed = () => new Promise((resolve) => setImmediate(resolve));
  write('info', cases[0]!);
  write('warn', cases[2]!);
  await flushed();
  assert.deepEqual(levels(), ['warn']);
  logger.level = 'info';
  write('info', cases[0]!);
  write('warn', cases[2]!);
  await flushed();
  assert.deepEqual(levels(), ['info', 'warn']);
  logger.level = 'error';
  write('info', cases[0]!);
  write('warn', cases[2]!);
  await flushed();
  assert.deepEqual(levels(), []);
});

test('the hot-path metrics are exported exactly as prom-client would export them', async () => {
  const metrics = new Metrics();
  const reference = new Registry();
  const histogram = new Histogram({ name: 'countersign_request_duration_seconds', help: metrics.requestDuration.help, labelNames: ['route', 'mode', 'status'] as const, buckets: LATENCY_BUCKETS, registers: [reference] });
  const counter = new Counter({ name: 'countersign_cache_requests_total', help: metrics.cacheRequests.help, labelNames: ['cache', 'result'] as const, registers: [reference] });
  const observations: Array<[string, string, string, number]> = [
    ['packument', 'verify', '200', 0.00004], ['packument', 'verify', '200', 0.0001], ['packument', 'verify', '200', 0.00011],
    ['tarball', 'verify', '403', 2.5], ['ops', 'local', '200', 31], ['packument', 'verify', '200', 0.3],
  ];
  for (const [route, mode, status, seconds] of observations) {
    metrics.requestDuration.observe({ route, mode, status }, seconds);
    histogram.observe({ route, mode, status }, seconds);
  }
  for (const [cache, result] of [['packument', 'hit'], ['packument', 'miss'], ['packument', 'hit'], ['tarball-disk', 'hit']] as const) {
    metrics.cacheRequests.inc({ cache, result });
    counter.inc({ cache, result });
  }
  const ours = await metrics.registry.metrics();
  const section = (text: string, name: string) => text.split('\n\n').find((block) => block.includes(`# TYPE ${name} `))?.trim();
  for (const name of ['countersign_request_duration_seconds', 'countersign_cache_requests_total']) {
    assert.ok(section(ours, name)?.includes(`${name}`), name);
    assert.equal(section(ours, name), section(await reference.metrics(), name), name);
  }

  // After a reset, counting starts again from nothing, as with prom-client.
  metrics.registry.resetMetrics();
  reference.resetMetrics();
  metrics.cacheRequests.inc({ cache: 'tarball-disk', result: 'miss' }, 2);
  counter.inc({ cache: 'tarball-disk', result: 'miss' }, 2);
  const name = 'countersign_cache_requests_total';
  assert.equal(section(await metrics.registry.metrics(), name), section(await reference.metrics(), name));
  assert.throws(() => metrics.requestDuration.observe({ route: 'x', mode: 'y', status: 200 as unknown as string }, 1), /label status must be a string/);
});

test('the dropped log lines are read from the log destination at each scrape', async () => {
  const metrics = new Metrics();
  let dropped = 0;
  metrics.droppedLogLines = () => dropped;
  assert.match(await metrics.registry.metrics(), /^countersign_log_lines_dropped_total 0$/m);
  dropped = 240;
  assert.match(await metrics.registry.metrics(), /^countersign_log_lines_dropped_total 240$/m);
});
