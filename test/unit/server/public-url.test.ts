import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../src/config/load.js';
import { isCountersignError } from '../../../src/errors.js';
import { publicBase } from '../../../src/server/public-url.js';

const config = (server: string) => parseConfig(`server: ${server}\nupstreams:\n  npmjs: { url: "http://127.0.0.1:1/" }\nrules:\n  - match: ["**"]\n`, 't.yaml', { env: {}, cwd: '/' });
const req = (headers: Record<string, string>) => ({ headers, socket: {} }) as unknown as IncomingMessage;

describe('public base URL', () => {
  it('uses server.publicUrl when set', () => {
    assert.equal(publicBase(req({ host: 'evil.example' }), config('{ publicUrl: "https://cs.example.com/npm" }')), 'https://cs.example.com/npm/');
  });

  it('derives it from Host, and from X-Forwarded-* only behind a trusted proxy', () => {
    const headers = { host: 'cs.internal:4874', 'x-forwarded-host': 'npm.example.com', 'x-forwarded-proto': 'https' };
    assert.equal(publicBase(req(headers), config('{}')), 'http://cs.internal:4874/');
    assert.equal(publicBase(req(headers), config('{ trustProxy: true }')), 'https://npm.example.com/');
    assert.equal(publicBase(req({ host: '[::1]:4874' }), config('{}')), 'http://[::1]:4874/');
  });

  it('refuses a Host that cannot be part of a URL', () => {
    for (const host of ['evil.example/path', 'a b', 'x@y', '', 'host:port:extra']) {
      assert.throws(() => publicBase(req({ host }), config('{}')), (err: unknown) => isCountersignError(err, 'ECS_BAD_HOST'), host);
    }
  });
});
