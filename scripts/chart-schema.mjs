#!/usr/bin/env node
// Copies countersign's config schema (config/schema.json) into the Helm chart's values.schema.json,
// as definitions.config and definitions.config-*, so that `helm install` rejects a bad policy
// before a pod crash-loops on it. What changes on the way:
// - server.host, server.port and server.dataDir go: the chart sets them (values.yaml says how);
// - the formats only countersign knows (duration, size, packument-size, http-url) become patterns,
//   which also accept a ${VAR} reference, since countersign expands those at start-up (a pattern
//   cannot bound a size with units: countersign refuses a packuments.maxSize over 512MB itself).
//
// Usage: node scripts/chart-schema.mjs          rewrite helm/countersign/values.schema.json
//        node scripts/chart-schema.mjs --check  exit 1 if it is out of date (npm test runs this)
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const CONFIG_SCHEMA = `${root}config/schema.json`;
const VALUES_SCHEMA = `${root}helm/countersign/values.schema.json`;

const ENV_REFERENCE = '.*\\$\\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\\}.*';
const FORMAT_PATTERNS = {
  duration: '\\s*(?:0|[0-9]+(?:ms|s|m|h|d|w))\\s*',
  size: '\\s*[0-9]+(?:\\.[0-9]+)?\\s*(?:B|KB|MB|GB|KiB|MiB|GiB)?\\s*',
  'http-url': 'https?://[^\\s/?#@]+(?:/[^\\s?#]*)?',
};
FORMAT_PATTERNS['packument-size'] = FORMAT_PATTERNS.size;
const CHART_SETS = ['host', 'port', 'dataDir'];

function convert(node) {
  if (Array.isArray(node)) return node.map(convert);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'format') {
      const pattern = FORMAT_PATTERNS[value];
      if (!pattern) throw new Error(`config/schema.json uses format ${value}, which this script cannot translate`);
      out.pattern = `^(?:${pattern}|${ENV_REFERENCE})$`;
    } else if (key === '$ref') {
      out.$ref = value.replace(/^#\/definitions\//, '#/definitions/config-');
    } else {
      out[key] = convert(value);
    }
  }
  return out;
}

function chartDefinitions(configSchema) {
  const { $schema: _schema, $id: _id, title: _title, definitions = {}, ...top } = configSchema;
  const config = convert(top);
  for (const key of CHART_SETS) delete config.properties.server.properties[key];
  config.description = `countersign's config.yaml (config/schema.json) less server.${CHART_SETS.join(', server.')}, which the chart sets. ${config.description ?? ''}`.trim();
  const out = { config };
  for (const [name, definition] of Object.entries(definitions)) out[`config-${name}`] = convert(definition);
  return out;
}

function render() {
  const values = JSON.parse(readFileSync(VALUES_SCHEMA, 'utf8'));
  const config = JSON.parse(readFileSync(CONFIG_SCHEMA, 'utf8'));
  const own = Object.fromEntries(Object.entries(values.definitions ?? {}).filter(([name]) => name !== 'config' && !name.startsWith('config-')));
  values.definitions = { ...own, ...chartDefinitions(config) };
  return `${JSON.stringify(values, null, 2)}\n`;
}

const expected = render();
if (process.argv.includes('--check')) {
  if (readFileSync(VALUES_SCHEMA, 'utf8') !== expected) {
    console.error('helm/countersign/values.schema.json is out of step with config/schema.json: run node scripts/chart-schema.mjs');
    process.exit(1);
  }
} else {
  writeFileSync(VALUES_SCHEMA, expected);
}
