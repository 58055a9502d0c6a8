import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parsePackument } from '../../../src/registry/parse.js';
import { prepareRender, renderPackument } from '../../../src/registry/render.js';
import { packumentCaseArb } from '../../helpers/packument-gen.js';

const BASE = 'https://countersign.example/';

test('property: every manifest range cuts exactly that version’s manifest out of the full form', () => {
  fc.assert(
    fc.property(packumentCaseArb(), fc.constantFrom('', 'ünïcode ✓ ', '\u{1F600}'), ({ packument, allowed }, text) => {
      // Non-ASCII text before and inside the manifests makes byte and character offsets differ.
      const doc: Record<string, unknown> = { ...packument.doc, description: `${text}top` };
      for (const manifest of Object.values(doc['versions'] as Record<string, unknown>)) {
        if (manifest !== null && typeof manifest === 'object' && !Array.isArray(manifest)) (manifest as Record<string, unknown>)['readme'] = `${text}readme`;
      }
      const parsed = parsePackument(JSON.parse(JSON.stringify(doc)), packument.name);
      const rendered = renderPackument(prepareRender(parsed, (name, v) => `${BASE}${name}/-/x-${v}.tgz`), allowed, 'full');
      const bytes = rendered.body;
      const versions = (JSON.parse(rendered.body.toString()) as { versions: Record<string, unknown> }).versions;
      assert.deepEqual([...rendered.manifestRanges.keys()], Object.keys(versions));
      for (const [version, [start, end]] of rendered.manifestRanges) {
        assert.deepEqual(JSON.parse(bytes.toString('utf8', start, end)), versions[version]);
      }
    }),
    { numRuns: 150 },
  );
});

test('the abbreviated form has no manifest ranges', () => {
  const parsed = parsePackument({ name: 'n', versions: { '1.0.0': { name: 'n', version: '1.0.0', dist: {} } } }, 'n');
  assert.equal(renderPackument(prepareRender(parsed, () => `${BASE}x.tgz`), new Set(['1.0.0']), 'abbreviated').manifestRanges.size, 0);
});
