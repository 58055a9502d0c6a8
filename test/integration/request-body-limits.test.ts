/**
 * Must hold 10 (bodies): request bodies are capped by server.maxRequestBody. A declared length
 * over the cap is refused before anything is read or sent upstream; a chunked body is cut when
 * it crosses the cap, and the upstream never receives it whole.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startCountersign, type Running } from '../helpers/countersign.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { createRegistryKey } from '../helpers/registry-key.js';

const CAP = 4096;

interface Sent {
  readonly status: number | undefined;
  readonly body: string;
  /** The connection failed before an answer (the server cut it). */
  readonly error: string | undefined;
}

/** Sends `size` bytes in 1 KiB chunks, declared up front or chunked, and reports what came back. */
function send(base: string, method: string, path: string, size: number, declared: boolean): Promise<Sent> {
  return new Promise((resolve) => {
    const url = new URL(path, base);
    const headers: Record<string, string | number> = { 'content-type': 'application/json', authorization: 'Bearer client' };
    if (declared) headers['content-length'] = size;
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body, error: undefined }));
      res.on('error', (err) => resolve({ status: res.statusCode, body, error: err.message }));
    });
    req.on('error', (err) => resolve({ status: undefined, body: '', error: err.message }));
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const n = Math.min(1024, size - sent);
        sent += n;
        if (!req.write(Buffer.alloc(n, 0x20))) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

describe('request body limits (server.maxRequestBody: 4KB)', () => {
  let publicUp: FakeRegistry;
  let internalUp: FakeRegistry;
  let cs: Running;

  before(async () => {
    publicUp = await FakeRegistry.start({ key: createRegistryKey() });
    internalUp = await FakeRegistry.start();
    cs = await startCountersign({
      yaml: `
server: { dataDir: "\${DATA_DIR}", shutdownGrace: 1s, maxRequestBody: ${CAP}B }
upstreams:
  npmjs: { url: ${publicUp.url}, keys: upstream }
  internal: { url: ${internalUp.url}, token: t }
rules:
  - { match: ["@acme/*"], mode: fast, upstream: internal }
  - { match: ["**"], upstream: npmjs }
`,
    });
  });

  after(async () => {
    await cs.close();
    await publicUp.close();
    await internalUp.close();
  });

  const targets = [
    { what: 'a publish to a fast scope', method: 'PUT', path: '/@acme%2fwidget', upstream: () => internalUp },
    { what: 'an npm audit POST', method: 'POST', path: '/-/npm/v1/security/advisories/bulk', upstream: () => publicUp },
  ];

  for (const t of targets) {
    it(`${t.what} under the cap passes through whole`, async () => {
      const res = await send(cs.url, t.method, t.path, CAP - 1, true);
      assert.ok(res.status === 200 || res.status === 201, `status ${res.status}`);
      const last = t.upstream().requests.at(-1)!;
      assert.equal(last.bodyBytes, CAP - 1);
      assert.equal(last.bodyComplete, true);
    });

    it(`${t.what} declaring more than the cap: 413 ECS_BODY_TOO_LARGE, nothing sent upstream`, async () => {
      const before = t.upstream().requests.length;
      const res = await send(cs.url, t.method, t.path, CAP * 16, true);
      assert.equal(res.status, 413, res.error);
      const body = JSON.parse(res.body) as { code: string; error: string };
      assert.equal(body.code, 'ECS_BODY_TOO_LARGE');
      assert.match(body.error, /over the 4096-byte cap \(server\.maxRequestBody\)/);
      assert.equal(t.upstream().requests.length, before);
    });

    it(`${t.what} streaming past the cap undeclared: 413, and the upstream never gets it whole`, async () => {
      const before = t.upstream().requests.length;
      const res = await send(cs.url, t.method, t.path, CAP * 64, false);
      assert.equal(res.status, 413, res.error);
      assert.equal((JSON.parse(res.body) as { code: string }).code, 'ECS_BODY_TOO_LARGE');
      // The upstream request is abandoned at once, not left waiting for the rest of the body
      // (which would hold one of the upstream's sockets until its timeout).
      const started = Date.now();
      const abandoned = () => t.upstream().requests.slice(before).every((r) => r.aborted);
      while (!abandoned() && Date.now() - started < 2_000) await new Promise((r) => setTimeout(r, 20));
      for (const r of t.upstream().requests.slice(before)) {
        assert.equal(r.bodyComplete, false, 'the upstream saw the body end');
        assert.equal(r.aborted, true, `the upstream request is still open after ${Date.now() - started} ms`);
        assert.ok(r.bodyBytes <= CAP + 64 * 1024, `the upstream got ${r.bodyBytes} bytes`);
      }
    });
  }

  it('a body sent to a public name is refused (405) without being forwarded', async () => {
    const res = await send(cs.url, 'PUT', '/left-pad', CAP * 4, true);
    assert.equal(res.status, 405);
    assert.equal((JSON.parse(res.body) as { code: string }).code, 'ECS_PUBLISH_REFUSED');
    assert.equal(publicUp.requests.filter((r) => r.method === 'PUT').length, 0);
  });

  it('the server is still serving', async () => {
    assert.equal((await fetch(`${cs.url}healthz`)).status, 200);
  });
});
