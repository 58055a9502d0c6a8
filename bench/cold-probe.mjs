#!/usr/bin/env node
// The cold typescript request alone, in fresh servers: each run starts a countersign, serves
// express and react, then times the first typescript request (full form) to its last byte, with
// and without gzip; then restarts it on the same data dir (the signature ledger kept) and times
// the first request again ("restarted"); and times typescript as the very first request of a
// fresh process ("fresh", gzip). Quicker than `npm run bench` for A/B work on the cold path.
// Also prints the CPU each identity and restarted request cost (from /proc, in 10 ms ticks): the
// main thread's, and that of every other thread (signature workers, V8's GC and compiler threads,
// libuv's pool); their sum over the cores is the least time the request can take.
// With COUNTERSIGN_CLI_B (another build) and/or COUNTERSIGN_B_NODE_FLAGS (other node flags), both
// are measured in every run, taking turns to go first.
// Usage: node cold-probe.mjs   (env: COUNTERSIGN_CLI, COUNTERSIGN_CLI_B, COUNTERSIGN_NODE_FLAGS ('' for none),
//        COUNTERSIGN_B_NODE_FLAGS, RUNS=3,
//        UPSTREAM_MBPS: the fake upstream sends packuments at that many MB/s, as a distant registry;
//        UPSTREAM_GZIP=1: gzip-encoded, as the npm registry sends them)
import { readdir, readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { flagsFromEnv, probeSetup } from './lib/probe.mjs';

function timedGet(url, gzip) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const headers = { accept: 'application/json', 'accept-encoding': gzip ? 'gzip, deflate' : 'identity' };
    request(url, { headers, agent: false }, (res) => {
      res.resume();
      res.once('end', () => (res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`${url}: ${res.statusCode}`))));
    }).once('error', reject).end();
  });
}

const TICK_MS = 10; // USER_HZ = 100 on Linux

/** CPU ms so far of the main thread and of all the other threads of `pid`. */
async function threadCpu(pid) {
  const cpu = { main: 0, others: 0 };
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => undefined);
    if (stat === undefined) continue; // the thread ended meanwhile
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    cpu[tid === String(pid) ? 'main' : 'others'] += (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  }
  return cpu;
}

/** The typescript request's time, and the CPU it cost (counted until the process is quiet again). */
async function timedColdRequest(cs, gzip) {
  const before = await threadCpu(cs.pid);
  const ms = Math.round(await timedGet(`${cs.url}typescript`, gzip));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const after = await threadCpu(cs.pid);
  return { ms, cpu: `${after.main - before.main}+${after.others - before.others}` };
}

const setup = await probeSetup({ cli: process.env.COUNTERSIGN_CLI, flags: flagsFromEnv(process.env.COUNTERSIGN_NODE_FLAGS) });
// With a B build or B flags, both are measured, alternating which goes first in each run.
const bFlags = flagsFromEnv(process.env.COUNTERSIGN_B_NODE_FLAGS);
const builds = process.env.COUNTERSIGN_CLI_B || bFlags ? { A: {}, B: { cli: process.env.COUNTERSIGN_CLI_B || undefined, flags: bFlags } } : { A: {} };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  const results = {};
  for (const label of Object.keys(builds)) results[label] = { ms: { gzip: [], identity: [], restarted: [], fresh: [] }, cpuMs: { identity: [], restarted: [] } };
  for (let i = 0; i < Number(process.env.RUNS ?? 3); i++) {
    const order = i % 2 === 0 ? Object.keys(builds) : Object.keys(builds).reverse();
    for (const label of order) {
      const { ms, cpuMs } = results[label];
      const { cli, flags } = builds[label];
      // The first request a fresh process serves, as the bench's "fresh process" row (gzip).
      const fresh = await setup.countersign({ cli, flags });
      ms.fresh.push(Math.round(await timedGet(`${fresh.url}typescript`, true)));
      await fresh.stop();
      for (const encoding of ['gzip', 'identity']) {
        const cs = await setup.countersign({ cli, flags });
        for (const name of ['express', 'react']) await timedGet(`${cs.url}${name}`, encoding === 'gzip');
        const cold = await timedColdRequest(cs, encoding === 'gzip');
        ms[encoding].push(cold.ms);
        await cs.stop();
        if (encoding === 'gzip') continue;
        cpuMs.identity.push(cold.cpu);
        const again = await setup.countersign({ dataDir: cs.dataDir, cli, flags });
        for (const name of ['express', 'react']) await timedGet(`${again.url}${name}`, false);
        const restarted = await timedColdRequest(again, false);
        ms.restarted.push(restarted.ms);
        cpuMs.restarted.push(restarted.cpu);
        await again.stop();
      }
    }
  }
  for (const [label, { ms, cpuMs }] of Object.entries(results)) {
    const medians = Object.fromEntries(Object.entries(ms).map(([k, xs]) => [k, median(xs)]));
    const build = builds[label].cli ?? process.env.COUNTERSIGN_CLI ?? 'dist/src/cli/main.js';
    const flags = (builds[label].flags ?? setup.nodeFlags).join(' ');
    console.log(JSON.stringify({ build, flags, medians, ...ms, 'cpuMs (main+others)': cpuMs }));
  }
} finally {
  await setup.close();
}
