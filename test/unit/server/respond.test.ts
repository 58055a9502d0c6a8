import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { acceptsGzip, etagMatches, wantsAbbreviated } from '../../../src/server/respond.js';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe('content negotiation', () => {
  it('serves the abbreviated form to install clients only', () => {
    assert.ok(wantsAbbreviated(req({ accept: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*' })));
    assert.ok(wantsAbbreviated(req({ accept: 'application/vnd.npm.install-v1+json' })));
    assert.ok(!wantsAbbreviated(req({ accept: 'application/json' })));
    assert.ok(!wantsAbbreviated(req({})));
    assert.ok(!wantsAbbreviated(req({ accept: 'application/vnd.npm.install-v1+json;q=0, application/json' })));
  });

  it('gzips only when the client accepts it', () => {
    assert.ok(acceptsGzip(req({ 'accept-encoding': 'gzip, deflate, br' })));
    assert.ok(acceptsGzip(req({ 'accept-encoding': 'br;q=1.0, gzip;q=0.8' })));
    assert.ok(!acceptsGzip(req({ 'accept-encoding': 'gzip;q=0' })));
    assert.ok(!acceptsGzip(req({ 'accept-encoding': 'br' })));
    assert.ok(!acceptsGzip(req({})));
  });

  it('matches ETags weakly, in lists and with *', () => {
    const abc = (etag: string) => etag === '"abc"';
    assert.ok(etagMatches(req({ 'if-none-match': '"abc"' }), abc));
    assert.ok(etagMatches(req({ 'if-none-match': 'W/"abc"' }), abc));
    assert.ok(etagMatches(req({ 'if-none-match': '"x", "abc"' }), abc));
    assert.ok(etagMatches(req({ 'if-none-match': '*' }), abc));
    assert.ok(!etagMatches(req({ 'if-none-match': '"abcd"' }), abc));
  });
});
