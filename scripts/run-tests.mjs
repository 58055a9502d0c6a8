#!/usr/bin/env node
// Runs the compiled tests (dist/test/**/*.test.js) with node:test.
// Usage: node scripts/run-tests.mjs [filter ...]   (a filter is a substring of the test file path)
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const testRoot = join(root, 'dist', 'test');

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return walk(path);
    return entry.name.endsWith('.test.js') ? [path] : [];
  });
}

const filters = process.argv.slice(2);
const files = walk(testRoot)
  .filter((file) => filters.length === 0 || filters.some((f) => relative(testRoot, file).includes(f)))
  .sort();
if (files.length === 0) {
  console.error(`no test files under ${testRoot} match ${filters.join(' ') || '(all)'}; run \`npm run build\` first`);
  process.exit(2);
}

const concurrency = process.env.COUNTERSIGN_TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  ['--enable-source-maps', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=180000', ...files],
  { stdio: 'inherit', cwd: root },
);
process.exit(result.status ?? 1);
