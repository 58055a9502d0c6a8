#!/usr/bin/env node
// Records, once, what the benchmark serves: the full packuments and the tarballs of a real
// dependency tree (bench/app/package.json: express, react, typescript and ~240 packages in all),
// into bench/recording/ (git-ignored). Nothing in the benchmark itself touches the network.
//
// Usage: cd bench && npm run record          env: REGISTRY (default https://registry.npmjs.org/),
//                                                 CONCURRENCY (8), FORCE=1 to record again
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isolatedNpmArgs, isolatedNpmEnv, recordingPaths, tarballFile, packumentFile } from './lib/recording.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const REGISTRY = (process.env.REGISTRY ?? 'https://registry.npmjs.org/').replace(/\/?$/, '/');
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);
/** Packuments the HTTP scenarios name, recorded even if the app stops depending on them. */
const EXTRA_NAMES = ['express', 'react', 'typescript', 'vary'];

const paths = recordingPaths(join(here, 'recording'));
if (existsSync(paths.manifest) && !process.env.FORCE) {
  console.log(`${paths.manifest} exists; FORCE=1 records again`);
  process.exit(0);
}

/** Resolves the app's tree against the registry the way `npm install` would, without installing. */
async function resolveTree() {
  const work = await mkdtemp(join(tmpdir(), 'countersign-record-'));
  try {
    await copyFile(join(here, 'app', 'package.json'), join(work, 'package.json'));
    await writeFile(join(work, 'userconfig'), '');
    await writeFile(join(work, 'globalconfig'), '');
    const args = isolatedNpmArgs({ userconfig: join(work, 'userconfig'), globalconfig: join(work, 'globalconfig'), cache: join(work, 'cache'), registry: REGISTRY });
    const npm = spawnSync('npm', ['install', '--package-lock-only', ...args], {
      cwd: work,
      env: isolatedNpmEnv(),
      encoding: 'utf8',
    });
    if (npm.status !== 0) throw new Error(`npm install --package-lock-only failed:\n${npm.stderr}`);
    return JSON.parse(await readFile(join(work, 'package-lock.json'), 'utf8'));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function get(url, accept) {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(url, { headers: { accept } });
      if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
      return Buffer.from(await res.arrayBuffer());
    } catch (err) {
      if (attempt === 3) throw err;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

function checkIntegrity(bytes, integrity, what) {
  const [algorithm, digest] = integrity.split(/-(.*)/s);
  const actual = createHash(algorithm).update(bytes).digest('base64');
  if (actual !== digest) throw new Error(`${what}: ${algorithm} mismatch`);
}

async function inBatches(items, fn) {
  let next = 0;
  const workers = Array.from({ length: CONCURRENCY }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(workers);
}

const started = performance.now();
const lock = await resolveTree();
const tarballs = [];
for (const [path, entry] of Object.entries(lock.packages)) {
  if (path === '' || entry.link) continue;
  const name = entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
  tarballs.push({ name, version: entry.version, integrity: entry.integrity });
}
const unique = new Map(tarballs.map((t) => [`${t.name}@${t.version}`, t]));
const names = [...new Set([...EXTRA_NAMES, ...tarballs.map((t) => t.name)])].sort();
console.log(`app tree: ${tarballs.length} packages (${unique.size} distinct versions), ${names.length} packuments to record`);

await rm(paths.root, { recursive: true, force: true });
await mkdir(paths.packuments, { recursive: true });
await mkdir(paths.tarballs, { recursive: true });

let packumentBytes = 0;
await inBatches(names, async (name) => {
  const body = await get(`${REGISTRY}${name.replace('/', '%2f')}`, 'application/json');
  const doc = JSON.parse(body.toString('utf8'));
  if (doc.name !== name) throw new Error(`packument of ${name} names ${doc.name}`);
  packumentBytes += body.length;
  await writeFile(packumentFile(paths, name), body);
});

let tarballBytes = 0;
await inBatches([...unique.values()], async ({ name, version, integrity }) => {
  const unscoped = name.includes('/') ? name.split('/')[1] : name;
  const body = await get(`${REGISTRY}${name}/-/${unscoped}-${version}.tgz`, 'application/octet-stream');
  checkIntegrity(body, integrity, `${name}@${version}`);
  tarballBytes += body.length;
  await writeFile(tarballFile(paths, name, version), body);
});

await writeFile(paths.lock, JSON.stringify(lock, null, 2));
await writeFile(
  paths.manifest,
  JSON.stringify({ recordedAt: new Date().toISOString(), registry: REGISTRY, names, tarballs: [...unique.values()] }, null, 2),
);
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
console.log(
  `recorded ${names.length} packuments (${mb(packumentBytes)}) and ${unique.size} tarballs (${mb(tarballBytes)}) ` +
    `into ${paths.root} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
