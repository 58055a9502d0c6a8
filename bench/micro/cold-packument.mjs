#!/usr/bin/env node
// The cold packument pipeline of PackumentService on one big packument, in one process:
// JSON.parse → parsePackument → signatures on the SignaturePool → prepareRender → render both
// forms → Buffers; with the verification awaited before phase 1 of the render ("sequential"), or
// running on the workers while this thread does phase 1 ("overlapped"), or not at all ("nothing
// verified": the part of the pipeline the workers cannot take). Layouts interleaved.
// Usage: npm run build && node bench/micro/cold-packument.mjs [packument.json]
//        (default: the recorded typescript; env RUNS=9)
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePackument } from '../../dist/src/registry/parse.js';
import { prepareRender, renderPackument } from '../../dist/src/registry/render.js';
import { registrySignatureTasks, toP256Task } from '../../dist/src/verify/registry-signature.js';
import { SignaturePool } from '../../dist/src/verify/signature-pool.js';

const RUNS = Number(process.env.RUNS ?? 9);
const file = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'recording', 'packuments', 'typescript.json');
const doc = JSON.parse(readFileSync(file, 'utf8'));
const name = doc.name;

// Sign every version with a bench key, as the fake upstream does.
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const key = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
for (const [version, manifest] of Object.entries(doc.versions)) {
  const message = `${name}@${version}:${manifest.dist.integrity}`;
  manifest.dist.signatures = [{ keyid: 'bench', sig: sign('sha256', Buffer.from(message), privateKey).toString('base64') }];
}
const bytes = Buffer.from(JSON.stringify(doc));
const keys = { source: 'file', keys: [{ keyid: 'bench', key, expires: null, keytype: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256' }] };
const tarballUrl = (pkg, version) => `http://127.0.0.1:4874/${pkg}/-/${pkg}-${version}.tgz`;

const pool = new SignaturePool();
pool.start();
await new Promise((resolve) => setTimeout(resolve, 300));

async function pipeline(layout) {
  const started = performance.now();
  const parsed = parsePackument(JSON.parse(bytes.toString('utf8')), name);
  const tasks = [];
  for (const facts of parsed.facts.values()) tasks.push(...registrySignatureTasks(facts, keys));
  let prepared;
  if (layout === 'nothing verified') {
    prepared = prepareRender(parsed, tarballUrl);
  } else if (layout === 'overlapped') {
    const verifying = pool.verifyMany(tasks.map(toP256Task));
    prepared = prepareRender(parsed, tarballUrl);
    await verifying;
  } else {
    await pool.verifyMany(tasks.map(toP256Task));
    prepared = prepareRender(parsed, tarballUrl);
  }
  const served = new Set(parsed.versions.keys());
  renderPackument(prepared, served, 'full');
  renderPackument(prepared, served, 'abbreviated');
  return performance.now() - started;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const times = { sequential: [], overlapped: [], 'nothing verified': [] };
for (const layout of Object.keys(times)) await pipeline(layout); // JIT warm-up
for (let i = 0; i < RUNS; i++) {
  for (const layout of Object.keys(times)) times[layout].push(await pipeline(layout));
}
const roundtrip = [];
for (let i = 0; i < RUNS; i++) {
  const started = performance.now();
  JSON.stringify(JSON.parse(bytes.toString('utf8')));
  roundtrip.push(performance.now() - started);
}
console.log(`${name}: ${(bytes.length / 1e6).toFixed(1)} MB, ${Object.keys(doc.versions).length} versions; median of ${RUNS}`);
console.log(`JSON.parse + JSON.stringify   ${median(roundtrip).toFixed(0).padStart(5)} ms`);
for (const [layout, xs] of Object.entries(times)) {
  console.log(`pipeline, ${layout.padEnd(16)} ${median(xs).toFixed(0).padStart(5)} ms   (${(median(xs) / median(roundtrip)).toFixed(1)}× the round trip; min ${Math.min(...xs).toFixed(0)})`);
}
await pool.close();
