/**
 * Upstream timeouts default to connect 10 s, headers 30 s, body idle 30 s (not undici's 300 s),
 * are set per upstream, and every way undici or the socket fails maps to one code and status.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errors as undiciErrors } from 'undici';
import { parseConfig } from '../../../src/config/load.js';
import { upstreamError } from '../../../src/upstream/errors.js';

function configWith(upstream: string): ReturnType<typeof parseConfig> {
  return parseConfig(`upstreams:\n  npmjs: ${upstream}\nrules:\n  - match: ["**"]\n`, 'test.yaml', { env: {}, cwd: '/tmp' });
}

describe('upstream timeouts in the config', () => {
  it('default to connect 10 s, headers 30 s, body idle 30 s', () => {
    const u = configWith('{ url: "https://registry.npmjs.org/" }').upstreams.get('npmjs')!;
    assert.deepEqual([u.connectTimeoutMs, u.headersTimeoutMs, u.bodyIdleTimeoutMs], [10_000, 30_000, 30_000]);
  });

  it('are set per upstream, each on its own', () => {
    const u = configWith('{ url: "https://registry.npmjs.org/", timeouts: { connect: 250ms, bodyIdle: 2m } }').upstreams.get('npmjs')!;
    assert.deepEqual([u.connectTimeoutMs, u.headersTimeoutMs, u.bodyIdleTimeoutMs], [250, 30_000, 120_000]);
  });

  it('refuse a value that is not a duration, naming the key', () => {
    assert.throws(() => configWith('{ url: "https://registry.npmjs.org/", timeouts: { headers: "soon" } }'), /upstreams\.npmjs\.timeouts\.headers/);
  });
});

describe('upstream error mapping', () => {
  const map = (err: unknown, receiving = false) => upstreamError(err, 'npmjs', 'the packument of x', receiving);
  const errno = (code: string) => Object.assign(new Error(`${code} 127.0.0.1:1`), { code });

  const cases: Array<{ what: string; err: unknown; receiving?: boolean; code: string; status: number; message: RegExp }> = [
    { what: 'connect timeout', err: new undiciErrors.ConnectTimeoutError(), code: 'ECS_UPSTREAM_TIMEOUT', status: 504, message: /did not accept a connection in time/ },
    { what: 'headers timeout', err: new undiciErrors.HeadersTimeoutError(), code: 'ECS_UPSTREAM_TIMEOUT', status: 504, message: /did not answer in time/ },
    { what: 'body timeout', err: new undiciErrors.BodyTimeoutError(), receiving: true, code: 'ECS_UPSTREAM_TIMEOUT', status: 504, message: /body idle timeout/ },
    { what: 'refused', err: errno('ECONNREFUSED'), code: 'ECS_UPSTREAM_UNREACHABLE', status: 503, message: /unreachable \(ECONNREFUSED\)/ },
    { what: 'DNS failure', err: errno('ENOTFOUND'), code: 'ECS_UPSTREAM_UNREACHABLE', status: 503, message: /unreachable \(ENOTFOUND\)/ },
    { what: 'reset before the status line', err: errno('ECONNRESET'), code: 'ECS_UPSTREAM_UNREACHABLE', status: 503, message: /before answering/ },
    { what: 'reset in the body', err: errno('ECONNRESET'), receiving: true, code: 'ECS_UPSTREAM_RESET', status: 502, message: /while sending/ },
    { what: 'short body', err: new undiciErrors.ResponseContentLengthMismatchError(), receiving: true, code: 'ECS_UPSTREAM_RESET', status: 502, message: /while sending/ },
    { what: 'socket error wrapped in a cause', err: new TypeError('fetch failed', { cause: errno('ECONNREFUSED') }), code: 'ECS_UPSTREAM_UNREACHABLE', status: 503, message: /ECONNREFUSED/ },
    { what: 'gzip that does not inflate', err: errno('Z_DATA_ERROR'), receiving: true, code: 'ECS_UPSTREAM_INVALID_JSON', status: 502, message: /does not inflate/ },
    { what: 'brotli that does not inflate', err: errno('ERR__ERROR_FORMAT_PADDING_2'), receiving: true, code: 'ECS_UPSTREAM_INVALID_JSON', status: 502, message: /does not inflate/ },
  ];
  for (const c of cases) {
    it(`${c.what} → ${c.status} ${c.code}`, () => {
      const mapped = map(c.err, c.receiving);
      assert.equal(mapped.code, c.code);
      assert.equal(mapped.status, c.status);
      assert.match(mapped.message, c.message);
      assert.match(mapped.message, /upstream npmjs/);
      assert.equal(mapped.cause, c.err, 'the original error is kept as the cause, for the log');
    });
  }
});
