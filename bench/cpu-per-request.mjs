#!/usr/bin/env node
// CPU time each system spends per warm request (user + system, all threads, from /proc/<pid>/stat),
// over a fixed number of requests. Unlike req/s, this barely moves when other work shares the
// machine, so it is the figure to compare builds with on a busy 2-core box.
// Usage: cd bench && node cpu-per-request.mjs [path] [accept] [requests]
//        (default /vary application/json 40000; env COUNTERSIGN_CLI_B: a second build beside,
//        COUNTERSIGN_B_ENV: JSON of environment variables for it, e.g. '{"COUNTERSIGN_LOG_LEVEL":"warn"}')
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { cpuSecondsOf, freePort, startNode, waitForHttp } from './lib/processes.mjs';
import { recordingPaths } from './lib/recording.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const [path = '/vary', accept = 'application/json', requests = '40000'] = process.argv.slice(2);
const ROUNDS = Number(process.env.ROUNDS ?? 3);

const cpuMicros = async (pid) => (await cpuSecondsOf(pid)) * 1e6;

const run = (url, amount) => new Promise((resolve, reject) => autocannon({ url, connections: 20, amount, headers: { accept } }, (err, r) => (err ? reject(err) : resolve(r))));

const paths = recordingPaths(join(here, 'recording'));
const work = await mkdtemp(join(tmpdir(), 'countersign-cpu-'));
const children = [];
try {
  const upstream = await startNode('fake-upstream', [join(here, 'lib', 'fake-upstream.mjs'), paths.root], { firstLine: true });
  children.push(upstream);
  const config = join(work, 'countersign.yaml');
  await writeFile(config, `server: { host: 127.0.0.1 }\nupstreams: { bench: { url: ${upstream.ready.url}, keys: upstream } }\npackuments: { maxAge: 30m }\nrules: [ { match: ["**"], require: { integrity: sha512, registrySignature: required, minReleaseAge: 0 } } ]\n`);
  const builds = { countersign: join(here, '..', 'dist', 'src', 'cli', 'main.js') };
  if (process.env.COUNTERSIGN_CLI_B || process.env.COUNTERSIGN_B_ENV) builds['countersign-b'] = process.env.COUNTERSIGN_CLI_B ?? builds.countersign;
  const extraEnv = { 'countersign-b': JSON.parse(process.env.COUNTERSIGN_B_ENV ?? '{}') };
  const systems = {};
  for (const [name, cli] of Object.entries(builds)) {
    const port = await freePort();
    const proc = await startNode(name, [cli, 'serve', '--config', config], {
      env: { COUNTERSIGN_PORT: String(port), COUNTERSIGN_DATA_DIR: await mkdtemp(join(work, 'data-')), ...extraEnv[name] },
      logFile: join(work, `${name}.log`),
    });
    children.push(proc);
    await waitForHttp(`http://127.0.0.1:${port}/-/readyz`);
    systems[name] = { pid: proc.pid, url: `http://127.0.0.1:${port}${path}` };
  }
  const limit = await startNode('limit', [join(here, 'lib', 'static-server.mjs'), JSON.stringify({ captureFrom: systems.countersign.url.slice(0, -path.length + 1), packuments: [path], tarballs: [] })], { firstLine: true });
  children.push(limit);
  systems.limit = { pid: limit.pid, url: new URL(path, limit.ready.url).href };

  for (const system of Object.values(systems)) await run(system.url, 5000); // warm: fetched, verified, JIT
  const perRequest = Object.fromEntries(Object.keys(systems).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, system] of Object.entries(systems)) {
      const before = await cpuMicros(system.pid);
      const result = await run(system.url, Number(requests));
      perRequest[name].push((await cpuMicros(system.pid) - before) / result['2xx']);
    }
  }
  console.log(`${path} (${accept}), ${requests} requests × ${ROUNDS} rounds, 20 connections: CPU µs per request`);
  for (const [name, xs] of Object.entries(perRequest)) {
    const median = [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const min = Math.min(...xs);
    console.log(`${name.padEnd(14)} median ${median.toFixed(1).padStart(6)}   min ${min.toFixed(1).padStart(6)}   rounds ${xs.map((x) => x.toFixed(1)).join(' ')}`);
  }
} finally {
  await Promise.allSettled(children.map((c) => c.stop()));
  await rm(work, { recursive: true, force: true });
}
