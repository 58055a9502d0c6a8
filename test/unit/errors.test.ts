import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ERROR_CATALOG } from '../../src/errors.js';

const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

/** Rows of the README's error table: | `ECS_…` | status | when | */
function documented(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const match of README.matchAll(/^\| `(ECS_[A-Z_]+)` \| ([^|]+) \|/gm)) rows.set(match[1]!, match[2]!.trim());
  return rows;
}

describe('error codes', () => {
  it('every code in the catalog is in the README table, and nothing else is', () => {
    const docs = documented();
    assert.deepEqual([...docs.keys()].sort(), Object.keys(ERROR_CATALOG).sort());
  });

  it('the README states the status each code is sent with', () => {
    const docs = documented();
    for (const [code, spec] of Object.entries(ERROR_CATALOG) as Array<[string, { status: number; cliOnly?: true }]>) {
      // Start-up and CLI errors never reach a client; the table shows them as "–".
      assert.equal(docs.get(code), spec.cliOnly ? '–' : String(spec.status), code);
    }
  });
});
