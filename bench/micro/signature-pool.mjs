#!/usr/bin/env node
// Verifying a batch of ECDSA P-256 registry signatures: inline vs SignaturePool layouts.
// Usage: npm run build && node bench/micro/signature-pool.mjs   (env: TASKS=3500 RUNS=15)
import { generateKeyPairSync, sign } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { SignaturePool, verifyInline } from '../../dist/src/verify/signature-pool.js';

const TASKS = Number(process.env.TASKS ?? 3500);
const RUNS = Number(process.env.RUNS ?? 15);

function makeTasks(count) {
  const keys = [0, 1].map(() => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }));
  return Array.from({ length: count }, (_, i) => {
    const { privateKey, publicKey } = keys[i % 2];
    const message = `package-${i}@1.${i}.0:sha512-${Buffer.alloc(64, i).toString('base64')}`;
    return {
      key: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
      message,
      sig: sign('sha256', Buffer.from(message), privateKey).toString('base64'),
    };
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${x.toFixed(1).padStart(6)} ms`;

/** Total time, and how long the calling thread was busy before it could serve anything else. */
async function time(fn) {
  const start = performance.now();
  const pending = fn();
  const blocked = performance.now() - start;
  const results = await pending;
  if (results.length !== TASKS || results.some((r) => r !== true)) throw new Error('wrong results');
  return { total: performance.now() - start, blocked };
}

const tasks = makeTasks(TASKS);
verifyInline(tasks.slice(0, 100)); // warm the key cache and the JIT

const layouts = [
  ['inline', null],
  ['1 worker, caller verifies a share', { size: 1, callerShare: true }],
  ['1 worker, caller waits', { size: 1 }],
  ['2 workers, caller waits (default on 2 cores)', { size: 2 }],
  ['2 workers, caller verifies a share', { size: 2, callerShare: true }],
];

console.log(`${TASKS} signatures, ${availableParallelism()} cores, median of ${RUNS} warm runs (layouts interleaved)`);
const pools = layouts.map(([, options]) => options && new SignaturePool(options));
const runs = pools.map((pool) => () => (pool ? pool.verifyMany(tasks) : verifyInline(tasks)));
const cold = [];
for (const run of runs) cold.push(await time(run));
const warm = runs.map(() => []);
for (let i = 0; i < RUNS; i++) {
  for (const [j, run] of runs.entries()) warm[j].push(await time(run));
}
for (const [j, [name]] of layouts.entries()) {
  const total = median(warm[j].map((t) => t.total));
  const blocked = median(warm[j].map((t) => t.blocked));
  console.log(`${name.padEnd(50)} cold ${ms(cold[j].total)}   warm ${ms(total)}   caller blocked ${ms(blocked)}`);
}
await Promise.all(pools.map((pool) => pool?.close()));
