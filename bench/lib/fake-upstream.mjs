#!/usr/bin/env node
// The registry every system under test proxies: serves bench/recording/ from memory, every
// version signed with a bench ECDSA P-256 key generated at start (the registry mirror this is
// recorded from strips `dist.signatures` and serves no keys), the key at /-/npm/v1/keys, and
// tarball URLs pointing back here. Packuments carry a strong ETag and answer 304 to it.
//
// Run as a child of run.mjs: `node lib/fake-upstream.mjs <recording dir>`; it prints
// `{"url": …, "signed": …}` on stdout once it listens on 127.0.0.1.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { gzipSync } from 'node:zlib';
import { packumentFile, recordingPaths, tarballFile } from './recording.mjs';

const paths = recordingPaths(process.argv[2]);
const manifest = JSON.parse(readFileSync(paths.manifest, 'utf8'));

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const der = publicKey.export({ type: 'spki', format: 'der' });
const keyid = `SHA256:${createHash('sha256').update(der).digest('base64').replace(/=+$/, '')}`;
const keysBody = Buffer.from(
  JSON.stringify({ keys: [{ expires: null, keyid, keytype: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256', key: der.toString('base64') }] }),
);

const packuments = new Map(); // request path → { body, etag, gzipped }
const tarballs = new Map(); // request path → Buffer

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/-/npm/v1/keys') return send(res, 200, keysBody, 'application/json');
  if (path === '/-/ping') return send(res, 200, Buffer.from('{}'), 'application/json');
  const tarball = tarballs.get(path);
  if (tarball) return send(res, 200, tarball, 'application/octet-stream');
  const packument = packuments.get(path) ?? packuments.get(decodeURIComponent(path).replace(/^\/(@[^/]+)\//, '/$1%2f'));
  if (!packument) return send(res, 404, Buffer.from('{"error":"not found"}'), 'application/json');
  if (req.headers['if-none-match'] === packument.etag) {
    res.writeHead(304, { etag: packument.etag });
    return void res.end();
  }
  const gzip = packument.gzipped !== undefined && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
  const body = gzip ? packument.gzipped : packument.body;
  const headers = { etag: packument.etag, ...(gzip ? { 'content-encoding': 'gzip' } : {}) };
  if (PACED_BYTES_PER_MS > 0) return paced(res, body, headers);
  send(res, 200, body, 'application/json', headers);
});

// UPSTREAM_GZIP=1: packuments are sent gzip-encoded to clients that accept it, as the npm
// registry sends them (typescript's 10.5 MB travel as ~1.6 MB); unset, as identity.
const GZIP = process.env.UPSTREAM_GZIP === '1';

// UPSTREAM_MBPS (megabytes per second): packument bodies (as sent: gzipped with UPSTREAM_GZIP)
// are sent at that rate in 64 KB pieces, as a distant registry would (registry.npmjs.org sends the 10 MB typescript packument in ~1 s).
const PACED_BYTES_PER_MS = (Number(process.env.UPSTREAM_MBPS ?? 0) * 1e6) / 1000;

function paced(res, body, headers) {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length, ...headers });
  const started = performance.now();
  let sent = 0;
  const next = () => {
    const due = Math.min(body.length, Math.ceil((performance.now() - started) * PACED_BYTES_PER_MS) + 65536);
    if (due > sent) {
      res.write(body.subarray(sent, due));
      sent = due;
    }
    if (sent >= body.length) return void res.end();
    setTimeout(next, Math.max(1, (sent - 65536) / PACED_BYTES_PER_MS - (performance.now() - started)));
  };
  next();
}
server.keepAliveTimeout = 65_000;

function send(res, status, body, type, extra = {}) {
  res.writeHead(status, { 'content-type': type, 'content-length': body.length, ...extra });
  res.end(body);
}

await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/`;

let signed = 0;
for (const name of manifest.names) {
  const doc = JSON.parse(readFileSync(packumentFile(paths, name), 'utf8'));
  const unscoped = name.includes('/') ? name.split('/')[1] : name;
  for (const [version, v] of Object.entries(doc.versions ?? {})) {
    const dist = v?.dist;
    if (!dist) continue;
    dist.tarball = `${url}${name}/-/${unscoped}-${version}.tgz`;
    if (typeof dist.integrity === 'string') {
      const sig = sign('sha256', Buffer.from(`${name}@${version}:${dist.integrity}`), privateKey).toString('base64');
      dist.signatures = [{ keyid, sig }];
      signed++;
    }
  }
  const body = Buffer.from(JSON.stringify(doc));
  const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
  packuments.set(`/${name.replace('/', '%2f')}`, { body, etag, gzipped: GZIP ? gzipSync(body) : undefined });
}
for (const { name, version } of manifest.tarballs) {
  const unscoped = name.includes('/') ? name.split('/')[1] : name;
  tarballs.set(`/${name}/-/${unscoped}-${version}.tgz`, readFileSync(tarballFile(paths, name, version)));
}
process.stdout.write(`${JSON.stringify({ url, signed, packuments: packuments.size, tarballs: tarballs.size })}\n`);
process.on('SIGTERM', () => process.exit(0));
