#!/usr/bin/env node
// Peak resident memory of a fresh countersign serving a whole cold `npm install` of the recorded
// app, then the full typescript packument. Quicker than `npm run bench` for memory experiments.
// Usage: node mem-probe.mjs   (env: COUNTERSIGN_CLI, COUNTERSIGN_NODE_FLAGS ('' for none), RUNS=2,
//        EXTRA_YAML: config lines added before `rules:`, e.g. $'tarballs:\n  memoryCache: 4MB\n')
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { npmInstall } from './lib/install.mjs';
import { memoryOf } from './lib/processes.mjs';
import { flagsFromEnv, probeSetup } from './lib/probe.mjs';

const packageJson = await readFile(join(dirname(fileURLToPath(import.meta.url)), 'app', 'package.json'), 'utf8');
const setup = await probeSetup({ cli: process.env.COUNTERSIGN_CLI, flags: flagsFromEnv(process.env.COUNTERSIGN_NODE_FLAGS), extraYaml: process.env.EXTRA_YAML ?? '' });
try {
  const runs = [];
  for (let i = 0; i < Number(process.env.RUNS ?? 2); i++) {
    const cs = await setup.countersign();
    const install = await npmInstall({ workRoot: setup.work, packageJson, registry: cs.url });
    const afterInstall = await memoryOf(cs.pid);
    await (await fetch(`${cs.url}typescript`, { headers: { accept: 'application/json' } })).arrayBuffer();
    const afterTypescript = await memoryOf(cs.pid);
    runs.push({ installSeconds: Number(install.seconds.toFixed(1)), peakMB: Math.round(afterInstall.peakMB), rssMB: Math.round(afterInstall.rssMB), peakAfterTypescriptMB: Math.round(afterTypescript.peakMB) });
    await cs.stop();
  }
  console.log(JSON.stringify({ flags: setup.nodeFlags.join(' '), runs }));
} finally {
  await setup.close();
}
