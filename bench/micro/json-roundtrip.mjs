#!/usr/bin/env node
// The yardstick for a cold packument: JSON.parse + JSON.stringify of the same bytes in one
// process, which is what any proxy that rewrites a packument must at least do.
// Usage: node bench/micro/json-roundtrip.mjs <file.json>   (env: RUNS=5)
// Prints {"bytes", "runsMs", "medianMs", "firstMs"} on stdout.
import { readFileSync } from 'node:fs';

const RUNS = Number(process.env.RUNS ?? 5);
const bytes = readFileSync(process.argv[2]);
const runsMs = [];
let length = 0;
for (let i = 0; i < RUNS; i++) {
  const started = performance.now();
  const text = JSON.stringify(JSON.parse(bytes.toString('utf8')));
  runsMs.push(performance.now() - started);
  length += text.length;
}
const sorted = [...runsMs].sort((a, b) => a - b);
process.stdout.write(`${JSON.stringify({ bytes: bytes.length, runsMs, medianMs: sorted[Math.floor(RUNS / 2)], firstMs: runsMs[0], length })}\n`);
