#!/usr/bin/env node
// Every scenario against countersign, Verdaccio and the limit (a static server holding the same
// bytes in memory), in one run, so that the ratios are measured under the same machine load.
// See README.md. Usage: cd bench && npm run bench       (env knobs: see README.md "Knobs")
import { execFileSync, spawnSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { npmInstall, primeNpmCache } from './lib/install.mjs';
import { CORGI_ACCEPT, load } from './lib/load.mjs';
import { imageNodeFlags, flagsFromEnv } from './lib/probe.mjs';
import { cpuSecondsOf, freePort, memoryOf, startNode, waitForHttp } from './lib/processes.mjs';
import { recordingPaths } from './lib/recording.mjs';
import { printReport } from './lib/report.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const env = process.env;
const DURATION = Number(env.DURATION ?? 3); // seconds per measured HTTP run
const WARMUP = Number(env.WARMUP ?? 1); // seconds of dropped load before each
const ROUNDS = Number(env.ROUNDS ?? 3); // interleaved rounds per HTTP scenario; medians are reported
const CONNECTIONS = (env.CONNECTIONS ?? '20,64').split(',').map(Number);
const COLD_RUNS = Number(env.COLD_RUNS ?? 3);
const INSTALL_RUNS = Number(env.INSTALL_RUNS ?? 5);
const SYSTEMS = (env.SYSTEMS ?? 'limit,countersign,verdaccio').split(',');
const ONLY = env.ONLY ? new RegExp(env.ONLY) : undefined; // scenario ids to run (regex)
const COUNTERSIGN_LOG = env.COUNTERSIGN_LOG ?? 'file'; // file | devnull
const CPU_PROF = env.CPU_PROF === '1'; // countersign under --cpu-prof (profiles in the run folder)
// PIN=1, warm HTTP scenarios: the system under test on CPU 0, this process (the load generator) on
// CPU 1. Left to the scheduler, the two sometimes share a core for a while and the same system's
// rounds differ by a third (the limit: 65 to 86 thousand requests/s in five rounds). Off by default:
// on one core V8's concurrent GC threads compete with the main thread, which costs the systems that
// allocate (countersign on the 10 MB rows: 0.78x pinned, 1.06x unpinned in the same hour).
const PIN = env.PIN === '1' && availableParallelism() >= 2 && spawnSync('taskset', ['-V']).status === 0;

const paths = recordingPaths(join(here, 'recording'));
if (!existsSync(paths.manifest)) {
  console.error('no recording: run `npm run record` first (it needs the npm registry once)');
  process.exit(2);
}
const cli = env.COUNTERSIGN_CLI ?? join(root, 'dist', 'src', 'cli', 'main.js'); // COUNTERSIGN_CLI: another build, for A/B runs
// COUNTERSIGN_CLI_B: a second build run beside the first in every countersign scenario (before/after
// of an optimization); COUNTERSIGN_B_ENV: JSON of environment variables for it.
// countersign runs with the node flags of the image's CMD (and of `npm start`);
// COUNTERSIGN_NODE_FLAGS / COUNTERSIGN_B_NODE_FLAGS override them (space-separated, '' for none).
const imageFlags = await imageNodeFlags();
const flagsFrom = (value) => flagsFromEnv(value) ?? imageFlags;
const NODE_FLAGS = flagsFrom(env.COUNTERSIGN_NODE_FLAGS);
const B = env.COUNTERSIGN_CLI_B || env.COUNTERSIGN_B_ENV || env.COUNTERSIGN_B_NODE_FLAGS !== undefined
  ? { cli: env.COUNTERSIGN_CLI_B ?? cli, env: JSON.parse(env.COUNTERSIGN_B_ENV ?? '{}'), flags: flagsFrom(env.COUNTERSIGN_B_NODE_FLAGS) }
  : undefined;
if (!existsSync(cli)) {
  console.error(`${cli} is missing: build countersign first (npm run build at the repository root)`);
  process.exit(2);
}
const recording = JSON.parse(await readFile(paths.manifest, 'utf8'));
const packageJson = await readFile(join(here, 'app', 'package.json'), 'utf8');

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const runDir = join(here, 'results', stamp);
await mkdir(runDir, { recursive: true });
const work = await mkdtemp(join(tmpdir(), 'countersign-bench-'));
const children = [];
const say = (text) => console.log(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${text}`);
const t0 = performance.now();
const wants = (id) => ONLY === undefined || ONLY.test(id);
const has = (system) => SYSTEMS.includes(system);

async function cleanup() {
  await Promise.allSettled(children.map((c) => c.stop()));
  await rm(work, { recursive: true, force: true });
}
process.on('SIGINT', () => cleanup().then(() => process.exit(130)));

// ---------------------------------------------------------------------------------------------
// The systems

const upstream = await startNode('fake-upstream', [join(here, 'lib', 'fake-upstream.mjs'), paths.root], { firstLine: true });
children.push(upstream);
say(`fake upstream ${upstream.ready.url}: ${upstream.ready.packuments} packuments, ${upstream.ready.tarballs} tarballs, ${upstream.ready.signed} versions signed`);

const countersignConfig = join(runDir, 'countersign.yaml');
await writeFile(
  countersignConfig,
  `# Generated by bench/run.mjs: the recorded upstream, every signature required and verified.
server:
  host: 127.0.0.1
log:
  level: info            # one JSON line per request, as in production (to ${COUNTERSIGN_LOG === 'file' ? 'a file' : '/dev/null'})
upstreams:
  bench:
    url: ${upstream.ready.url}
    keys: upstream       # the bench key at /-/npm/v1/keys
packuments:
  maxAge: 30m            # the bench measures serving, not revalidation (Verdaccio: uplink maxage 30m)
rules:
  - match: ["**"]
    require:
      integrity: sha512
      registrySignature: required
      minReleaseAge: 0   # the recording is frozen: versions resolved at record time must stay installable
`,
);

async function startCountersign(label, build = cli, extraEnv = {}, flags = NODE_FLAGS, dataDir = undefined) {
  const port = await freePort();
  dataDir ??= await mkdtemp(join(work, `${label}-data-`));
  const args = [...flags];
  if (CPU_PROF) args.push('--cpu-prof', `--cpu-prof-dir=${join(runDir, 'profiles')}`);
  args.push(build, 'serve', '--config', countersignConfig);
  const proc = await startNode(label, args, {
    env: { COUNTERSIGN_PORT: String(port), COUNTERSIGN_DATA_DIR: dataDir, ...extraEnv },
    logFile: COUNTERSIGN_LOG === 'file' ? join(runDir, `${label}.log`) : '/dev/null',
  });
  children.push(proc);
  await waitForHttp(`http://127.0.0.1:${port}/-/readyz`);
  proc.url = `http://127.0.0.1:${port}/`;
  proc.dataDir = dataDir;
  return proc;
}

async function startVerdaccio(label) {
  const port = await freePort();
  const dir = await mkdtemp(join(work, `${label}-`));
  const config = join(dir, 'config.yaml');
  await writeFile(
    config,
    `storage: ${join(dir, 'storage')}
plugins: ${join(dir, 'plugins')}
web:
  enable: false
auth:
  htpasswd:
    file: ${join(dir, 'htpasswd')}
    max_users: -1
uplinks:
  bench:
    url: ${upstream.ready.url}
    maxage: 30m
    timeout: 120s
    cache: true
packages:
  '@*/*':
    access: $all
    proxy: bench
  '**':
    access: $all
    proxy: bench
server:
  keepAliveTimeout: 65
max_body_size: 200mb
log: { type: stdout, format: json, level: http }
`,
  );
  const proc = await startNode(label, [join(here, 'node_modules', 'verdaccio', 'bin', 'verdaccio'), '--config', config, '--listen', `127.0.0.1:${port}`], {
    logFile: join(runDir, `${label}.log`),
  });
  children.push(proc);
  await waitForHttp(`http://127.0.0.1:${port}/-/ping`);
  proc.url = `http://127.0.0.1:${port}/`;
  return proc;
}

/** A ping of `system` came back within 100 ms. */
async function answersPing(system) {
  const started = performance.now();
  try {
    await (await fetch(new URL('/-/ping', system.url), { signal: AbortSignal.timeout(30_000) })).arrayBuffer();
  } catch {
    return false; // busy enough to time out
  }
  return performance.now() - started < 100;
}

/** The share of a core each of `systems` used over the next `ms`. */
async function coreShares(systems, ms) {
  const cpu = () => Promise.all(Object.values(systems).map((s) => cpuSecondsOf(s.pid)));
  const before = await cpu();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = await cpu();
  return Object.fromEntries(Object.keys(systems).map((name, i) => [name, (after[i] - before[i]) / (ms / 1000)]));
}

/**
 * Waits until no system is still at work on an earlier round, and `name` answers a ping within
 * 100 ms. Verdaccio, after 64 clients asked it for 10 MB each, goes on serializing for clients
 * long gone and answers a ping between two of them: whoever is measured next would share the two
 * cores with that backlog. Quiet is every system under 5% of a core over half a second (the
 * kernel counts 10 ms ticks). Gives up after 3 minutes and says so.
 */
async function untilIdle(name, systems) {
  const deadline = Date.now() + 180_000;
  const waitedFor = new Set();
  for (;;) {
    const busy = Object.entries(await coreShares(systems, 500)).filter(([, share]) => share > 0.05);
    if (busy.length === 0 && (await answersPing(systems[name]))) break;
    for (const [other] of busy) waitedFor.add(other);
    if (Date.now() > deadline) {
      say(`still busy after 3 minutes (${busy.map(([n, share]) => `${n} ${Math.round(share * 100)}%`).join(', ') || `${name} slow to answer`}); measuring anyway`);
      break;
    }
  }
  if (waitedFor.size > 0) say(`waited for ${[...waitedFor].join(', ')} to finish a backlog before measuring ${name}`);
}

/** Sets the CPUs of every thread of `pid` (taskset -a); later threads inherit them. */
function pinTo(pid, cpuList) {
  execFileSync('taskset', ['-a', '-p', '-c', cpuList, String(pid)], { stdio: 'ignore' });
}

async function stop(proc) {
  await proc.stop();
  const at = children.indexOf(proc);
  if (at !== -1) children.splice(at, 1);
}

/**
 * One GET, timed to the last byte of the response as the server sends it (gzip when it offers it,
 * as npm asks): the client does not decode, like autocannon in the warm scenarios, so that the
 * time is the server's and not the client's (fetch() decoding 10 MB added ~80 ms).
 */
function timedGet(url, headers) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { 'accept-encoding': 'gzip, deflate', ...headers }, agent: false }, (res) => {
      const firstChunks = [];
      let bytes = 0;
      res.on('data', (chunk) => {
        if (bytes < 300) firstChunks.push(chunk);
        bytes += chunk.length;
      });
      res.once('error', reject);
      res.once('end', () => {
        const ms = performance.now() - started;
        if (res.statusCode !== 200) reject(new Error(`${url}: ${res.statusCode} ${Buffer.concat(firstChunks).toString('utf8', 0, 300)}`));
        else resolve({ ms, bytes });
      });
    });
    req.once('error', reject);
    req.end();
  });
}

const scoped = (name) => `/${name.replace('/', '%2f')}`;
const tarballPath = ({ name, version }) => `/${name}/-/${name.includes('/') ? name.split('/')[1] : name}-${version}.tgz`;
const expressTarball = recording.tarballs.find((t) => t.name === 'express');

// ---------------------------------------------------------------------------------------------
// Machine and run facts

const facts = {
  date: new Date().toISOString(),
  machine: `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
  node: process.version,
  commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim(),
  dirty: execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: root, encoding: 'utf8' }).trim() !== '',
  loadavgStart: loadavg().map((x) => x.toFixed(2)).join(' '),
  recordedAt: recording.recordedAt,
  before: B ? `countersign-b: node ${[...B.flags, B.cli].join(' ')}${Object.keys(B.env).length ? ` with ${JSON.stringify(B.env)}` : ''}` : undefined,
  nodeFlags: NODE_FLAGS.join(' '),
  command: `cd bench && ${Object.entries({ DURATION, WARMUP, ROUNDS, CONNECTIONS: CONNECTIONS.join(','), COLD_RUNS, INSTALL_RUNS }).map(([k, v]) => `${k}=${v}`).join(' ')}${PIN ? ' PIN=1' : ''}${env.ONLY ? ` ONLY='${env.ONLY}'` : ''}${env.SYSTEMS ? ` SYSTEMS=${env.SYSTEMS}` : ''} npm run bench`,
  countersignLog: COUNTERSIGN_LOG === 'file' ? 'info, to a file' : 'info, to /dev/null',
  verdaccioLog: 'http (one line per request), JSON, to a file',
  pinned: PIN ? 'warm scenarios: the system under test on CPU 0, the load generator on CPU 1 (taskset)' : undefined,
};
const results = { facts, http: [], cold: {}, install: {}, memory: {} };

try {
  // The limit holds exactly what countersign serves: captured from a countersign of its own.
  let limit;
  if (has('limit')) {
    const capture = await startCountersign('countersign-capture');
    const packumentPaths = recording.names.map(scoped);
    limit = await startNode('limit', [join(here, 'lib', 'static-server.mjs'), JSON.stringify({ captureFrom: capture.url, packuments: packumentPaths, tarballs: recording.tarballs.map(tarballPath) })], { firstLine: true });
    children.push(limit);
    limit.url = limit.ready.url;
    await stop(capture);
    if (limit.ready.failed.length > 0) throw new Error(`countersign refused some recorded paths: ${limit.ready.failed.slice(0, 5).join(', ')}`);
    say(`limit server ${limit.url}: ${(limit.ready.bytes / 1e6).toFixed(0)} MB captured from countersign`);
  }

  // ------------------------------------------------------------------------------------------
  // Cold: the first request for the 10 MB typescript packument.
  if (wants('cold')) {
    const tsUrl = `${upstream.ready.url}typescript`;
    const signedTs = join(work, 'typescript.json');
    await writeFile(signedTs, Buffer.from(await (await fetch(tsUrl)).arrayBuffer()));
    const baseline = spawnSync(process.execPath, [join(here, 'micro', 'json-roundtrip.mjs'), signedTs], { encoding: 'utf8', env: { ...env, RUNS: '5' } });
    if (baseline.status !== 0) throw new Error(baseline.stderr);
    results.cold.jsonRoundtrip = JSON.parse(baseline.stdout);
    say(`JSON.parse + JSON.stringify of typescript (${(results.cold.jsonRoundtrip.bytes / 1e6).toFixed(1)} MB): median ${results.cold.jsonRoundtrip.medianMs.toFixed(0)} ms`);

    const warmUpOthers = async (url) => {
      for (const name of ['express', 'react']) await timedGet(`${url}${name}`, { accept: 'application/json' });
    };
    const samples = { countersignFresh: [], countersignRunning: [], countersignRestarted: [], verdaccioRunning: [] };
    if (B) Object.assign(samples, { bFresh: [], bRunning: [] });
    const peaks = [];
    const coldCountersign = async (i, b, fresh, running) => {
      const label = b ? 'countersign-b' : 'countersign';
      const first = await startCountersign(`${label}-cold-${i}a`, b ? B.cli : cli, b ? B.env : {}, b ? B.flags : NODE_FLAGS);
      fresh.push((await timedGet(`${first.url}typescript`, { accept: 'application/json' })).ms);
      if (!b) peaks.push((await memoryOf(first.pid)).peakMB);
      await stop(first);
      if (!b) {
        // The same data dir: the signatures verified above are in its signature ledger.
        const restarted = await startCountersign(`${label}-cold-${i}r`, cli, {}, NODE_FLAGS, first.dataDir);
        await warmUpOthers(restarted.url);
        samples.countersignRestarted.push((await timedGet(`${restarted.url}typescript`, { accept: 'application/json' })).ms);
        peaks.push((await memoryOf(restarted.pid)).peakMB);
        await stop(restarted);
      }
      const second = await startCountersign(`${label}-cold-${i}b`, b ? B.cli : cli, b ? B.env : {}, b ? B.flags : NODE_FLAGS);
      await warmUpOthers(second.url);
      running.push((await timedGet(`${second.url}typescript`, { accept: 'application/json' })).ms);
      if (!b) peaks.push((await memoryOf(second.pid)).peakMB);
      await stop(second);
    };
    for (let i = 0; i < COLD_RUNS; i++) {
      if (has('countersign')) await coldCountersign(i, false, samples.countersignFresh, samples.countersignRunning);
      if (B) await coldCountersign(i, true, samples.bFresh, samples.bRunning);
      if (has('verdaccio')) {
        const verdaccio = await startVerdaccio(`verdaccio-cold-${i}`);
        await warmUpOthers(verdaccio.url);
        samples.verdaccioRunning.push((await timedGet(`${verdaccio.url}typescript`, { accept: 'application/json' })).ms);
        await stop(verdaccio);
      }
    }
    results.cold.samples = samples;
    results.cold.countersignPeakMB = Math.max(...peaks);
    say(`cold typescript: ${JSON.stringify(Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, v.map((x) => Math.round(x))])))}`);
  }

  // ------------------------------------------------------------------------------------------
  // Warm HTTP scenarios.
  const systems = {};
  if (has('limit')) systems.limit = limit;
  if (has('countersign')) systems.countersign = await startCountersign('countersign');
  if (B) systems['countersign-b'] = await startCountersign('countersign-b', B.cli, B.env, B.flags);
  if (has('verdaccio')) systems.verdaccio = await startVerdaccio('verdaccio');

  const scenarios = [];
  for (const connections of CONNECTIONS) {
    for (const [name, size] of [['express', '750 KB'], ['typescript', '10 MB']]) {
      scenarios.push({ id: `${name}-full-c${connections}`, what: `${name} packument (${size}), full`, path: `/${name}`, headers: { accept: 'application/json' }, connections });
      scenarios.push({ id: `${name}-abbr-c${connections}`, what: `${name} packument (${size}), abbreviated`, path: `/${name}`, headers: { accept: CORGI_ACCEPT }, connections });
    }
  }
  scenarios.push({ id: 'small-c20', what: 'small packument (vary), full', path: '/vary', headers: { accept: 'application/json' }, connections: 20 });
  scenarios.push({ id: 'tarball-c20', what: `cached tarball (express ${expressTarball.version})`, path: tarballPath(expressTarball), headers: { accept: 'application/octet-stream' }, connections: 20 });

  const active = scenarios.filter((s) => wants(s.id));
  // Every system has the scenario's URL warm (fetched, verified, cached) before it is measured.
  for (const system of Object.values(systems)) {
    for (const s of active) for (let i = 0; i < 2; i++) await timedGet(new URL(s.path, system.url), s.headers);
  }
  const order = Object.keys(systems);
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const [i, s] of active.entries()) {
    const rounds = Object.fromEntries(order.map((name) => [name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order so that no system always runs right after another one's load.
      const k = (i + round) % order.length;
      for (const name of [...order.slice(k), ...order.slice(0, k)]) {
        await untilIdle(name, systems);
        if (PIN) {
          pinTo(systems[name].pid, '0');
          pinTo(process.pid, '1');
        }
        rounds[name].push(await load({ url: new URL(s.path, systems[name].url).href, headers: s.headers, connections: s.connections, duration: DURATION, warmup: WARMUP }));
        if (PIN) pinTo(systems[name].pid, `0-${availableParallelism() - 1}`);
      }
    }
    // Per system, the median round by throughput and the median p99: the machine is shared, and one
    // round can land on another engineer's build.
    const row = { ...s, results: {} };
    for (const [name, runs] of Object.entries(rounds)) {
      row.results[name] = { ...runs[0], rps: median(runs.map((r) => r.rps)), p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99)), rounds: runs.map((r) => ({ rps: r.rps, p99: r.p99 })) };
    }
    results.http.push(row);
    say(`${s.id}: ${Object.entries(row.results).map(([n, r]) => `${n} ${r.rps.toFixed(0)}/s p99 ${r.p99.toFixed(1)} ms [${r.rounds.map((x) => x.rps.toFixed(0)).join(' ')}]`).join(', ')}`);
  }

  if (PIN) pinTo(process.pid, `0-${availableParallelism() - 1}`);

  // ------------------------------------------------------------------------------------------
  // npm install of the recorded app.
  if (wants('install') && INSTALL_RUNS > 0) {
    const modes = {};
    if (has('countersign')) {
      modes['countersign cold'] = async () => {
        const cold = await startCountersign('countersign-install-cold');
        try {
          return await npmInstall({ workRoot: work, packageJson, registry: cold.url });
        } finally {
          results.install.coldPeakMB = Math.max(results.install.coldPeakMB ?? 0, (await memoryOf(cold.pid)).peakMB);
          await stop(cold);
        }
      };
      modes['countersign warm'] = () => npmInstall({ workRoot: work, packageJson, registry: systems.countersign.url });
      if (B) modes['countersign-b warm'] = () => npmInstall({ workRoot: work, packageJson, registry: systems['countersign-b'].url });
    }
    if (has('limit')) modes.limit = () => npmInstall({ workRoot: work, packageJson, registry: systems.limit.url });
    const seedCache = join(work, 'npm-cache-seed');
    modes['npm cache only'] = () => npmInstall({ workRoot: work, packageJson, registry: upstream.ready.url, seedCache, extraArgs: ['--prefer-offline'] });
    if (has('verdaccio')) modes['verdaccio warm'] = () => npmInstall({ workRoot: work, packageJson, registry: systems.verdaccio.url });

    // Warm-up: each proxy holds the whole tree; npm's own cache is primed (from the upstream).
    await primeNpmCache({ workRoot: work, packageJson, registry: upstream.ready.url, cacheDir: seedCache });
    for (const name of ['countersign', 'countersign-b', 'verdaccio', 'limit']) {
      if (systems[name]) await npmInstall({ workRoot: work, packageJson, registry: systems[name].url });
    }
    const times = Object.fromEntries(Object.keys(modes).map((m) => [m, []]));
    let installed;
    for (let round = 0; round < INSTALL_RUNS; round++) {
      for (const [mode, run] of Object.entries(modes)) {
        const r = await run();
        times[mode].push(r.seconds);
        if (installed !== undefined && r.installed !== installed) throw new Error(`${mode} installed ${r.installed} top-level folders, not ${installed}`);
        installed = r.installed;
      }
      say(`npm install round ${round + 1}/${INSTALL_RUNS}: ${Object.entries(times).map(([m, t]) => `${m} ${t.at(-1).toFixed(2)} s`).join(', ')}`);
    }
    results.install.times = times;
  }

  // ------------------------------------------------------------------------------------------
  for (const [name, system] of Object.entries(systems)) results.memory[name] = await memoryOf(system.pid);
  facts.loadavgEnd = loadavg().map((x) => x.toFixed(2)).join(' ');
} finally {
  await cleanup();
}

await writeFile(join(runDir, 'results.json'), JSON.stringify(results, null, 2));
const report = printReport(results);
await writeFile(join(runDir, 'report.md'), report);
console.log(report);
console.log(`results in ${runDir}`);
