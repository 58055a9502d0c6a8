#!/usr/bin/env node
// The cold typescript request alone, in fresh servers: each run starts a countersign, serves
// express and react, then times the first typescript request (full form) to its last byte, with
// and without gzip; then restarts it on the same data dir (the signature ledger kept) and times
// the first request again ("restarted"). Quicker than `npm run bench` for A/B work on the cold path.
// Usage: node cold-probe.mjs   (env: COUNTERSIGN_CLI, COUNTERSIGN_NODE_FLAGS ('' for none), RUNS=3,
//        UPSTREAM_MBPS: the fake upstream sends packuments at that many MB/s, as a distant registry)
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

const setup = await probeSetup({ cli: process.env.COUNTERSIGN_CLI, flags: flagsFromEnv(process.env.COUNTERSIGN_NODE_FLAGS) });
try {
  const ms = { gzip: [], identity: [], restarted: [] };
  for (let i = 0; i < Number(process.env.RUNS ?? 3); i++) {
    for (const encoding of ['gzip', 'identity']) {
      const cs = await setup.countersign();
      for (const name of ['express', 'react']) await timedGet(`${cs.url}${name}`, encoding === 'gzip');
      ms[encoding].push(Math.round(await timedGet(`${cs.url}typescript`, encoding === 'gzip')));
      await cs.stop();
      if (encoding === 'gzip') continue;
      const again = await setup.countersign({ dataDir: cs.dataDir });
      for (const name of ['express', 'react']) await timedGet(`${again.url}${name}`, false);
      ms.restarted.push(Math.round(await timedGet(`${again.url}typescript`, false)));
      await again.stop();
    }
  }
  console.log(JSON.stringify({ flags: setup.nodeFlags.join(' '), ...ms }));
} finally {
  await setup.close();
}
