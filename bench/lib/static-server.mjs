#!/usr/bin/env node
// The limit: a plain node:http server that answers every request with bytes it holds in memory,
// looked up by path, Accept and Accept-Encoding. No proxy can do less work per request.
//
// It serves exactly the bytes countersign serves: at start it asks a countersign (`captureFrom`)
// for every packument (full and abbreviated, identity and gzip) and every tarball, with its own
// address in the Host header, so that the tarball URLs inside point back at itself. No logging,
// no metrics.
//
// Run as a child of run.mjs: `node lib/static-server.mjs '<json: {captureFrom, paths}>'`; prints
// `{"url": …, "bytes": …}` on stdout when it is ready.
import { createServer, request } from 'node:http';

const { captureFrom, packuments, tarballs } = JSON.parse(process.argv[2]);

const CORGI = 'application/vnd.npm.install-v1+json';
/** path → { full, fullGzip, abbreviated, abbreviatedGzip } or { tarball }; each { status, headers: [], body } */
const routes = new Map();
const SKIPPED_HEADERS = new Set(['date', 'connection', 'keep-alive', 'x-request-id', 'transfer-encoding']);

const server = createServer((req, res) => {
  const url = req.url;
  const route = routes.get(url);
  if (route === undefined) {
    res.writeHead(404, ['content-type', 'application/json', 'content-length', '2']);
    res.end('{}');
    return;
  }
  let answer = route.tarball;
  if (answer === undefined) {
    const abbreviated = req.headers.accept?.includes(CORGI) === true;
    const gzip = req.headers['accept-encoding']?.includes('gzip') === true;
    answer = abbreviated ? (gzip ? route.abbreviatedGzip : route.abbreviated) : gzip ? route.fullGzip : route.full;
  }
  if (answer.etag !== undefined && req.headers['if-none-match'] === answer.etag) {
    res.writeHead(304, answer.notModifiedHeaders);
    res.end();
    return;
  }
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
});
server.keepAliveTimeout = 65_000;
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const host = `127.0.0.1:${server.address().port}`;

function capture(path, headers) {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, captureFrom), { headers: { ...headers, host } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const kept = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          const name = res.rawHeaders[i].toLowerCase();
          if (!SKIPPED_HEADERS.has(name)) kept.push(name, res.rawHeaders[i + 1]);
        }
        const etag = res.headers.etag;
        const notModifiedHeaders = [];
        for (let i = 0; i < kept.length; i += 2) {
          if (kept[i] !== 'content-length' && kept[i] !== 'content-encoding') notModifiedHeaders.push(kept[i], kept[i + 1]);
        }
        resolve({ status: res.statusCode, headers: kept, body, etag, notModifiedHeaders });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The gzip copy countersign serves once warm: a large form's first copy is made at zlib's fastest
 * level (ETag -gzf") and replaced by the default-level one after it is served again.
 */
async function captureGzip(path, headers) {
  for (let i = 0; i < 100; i++) {
    const answer = await capture(path, { ...headers, 'accept-encoding': 'gzip' });
    if (!String(answer.etag).endsWith('-gzf"')) return answer;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${path}: countersign kept serving its fast gzip copy`);
}

let bytes = 0;
async function inBatches(items, fn, concurrency = 8) {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

await inBatches(packuments, async (path) => {
  const json = { accept: 'application/json' };
  const corgi = { accept: `${CORGI}; q=1.0, application/json; q=0.8, */*` };
  const route = {
    full: await capture(path, json),
    fullGzip: await captureGzip(path, json),
    abbreviated: await capture(path, corgi),
    abbreviatedGzip: await captureGzip(path, corgi),
  };
  for (const answer of Object.values(route)) bytes += answer.body.length;
  routes.set(path, route);
  // npm asks for scoped names as /@scope%2fname; other clients as /@scope/name.
  if (path.includes('%2f')) routes.set(path.replace('%2f', '/'), route);
});
await inBatches(tarballs, async (path) => {
  const tarball = await capture(path, { accept: 'application/octet-stream' });
  bytes += tarball.body.length;
  routes.set(path, { tarball });
});
const failed = [...routes].filter(([, r]) => (r.tarball ?? r.full).status !== 200).map(([path]) => path);
process.stdout.write(`${JSON.stringify({ url: `http://${host}/`, bytes, failed })}\n`);
process.on('SIGTERM', () => process.exit(0));
