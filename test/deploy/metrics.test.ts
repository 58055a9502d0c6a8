// The dashboard and the alerts against a running countersign: every metric they read is exported,
// with the labels and label values they select on; every expression parses (promtool); every
// countersign metric is on the dashboard and in the README's metrics list.
//
// Series with labels exist only once something happened, so the test first makes countersign do
// each thing the dashboard shows: serve and re-serve a packument and a tarball (cache hits), hide
// a version, refuse a tampered tarball (502) and a hidden one (403), and fail an upstream request.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { startCountersign, verifyConfig, type Running } from '../helpers/countersign.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { markdownSection } from '../helpers/markdown.js';
import { namesIn, promtool, runPromtool, substituteGrafanaVariables, type Selector } from '../helpers/promql.js';
import { createRegistryKey } from '../helpers/registry-key.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const chart = join(root, 'helm', 'countersign');

/** Labels Prometheus attaches to every scraped series (target labels), and `up`, which it makes. */
const TARGET_LABELS = new Set(['job', 'instance', 'namespace', 'pod', 'service', 'container', 'endpoint']);
const SYNTHETIC_METRICS = new Set(['up']);

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: Array<{ refId: string; expr: string }>;
}

interface Dashboard {
  panels: Panel[];
  templating: { list: Array<{ type: string; name: string; query?: { query: string } | string }> };
}

interface Exposition {
  /** Base names with their TYPE. */
  readonly types: Map<string, string>;
  /** Sample names (foo_bucket, foo_count, ...) with the label sets seen. */
  readonly samples: Map<string, Array<Record<string, string>>>;
}

function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples = new Map<string, Array<Record<string, string>>>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const sample = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+\S+/.exec(line);
    assert.ok(sample, `unreadable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const m of (sample[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
    const list = samples.get(sample[1]!) ?? [];
    list.push(labels);
    samples.set(sample[1]!, list);
  }
  return { types, samples };
}

/** The base name a sample name belongs to: foo_bucket → foo when foo is a histogram. */
function baseName(name: string, types: Map<string, string>): string {
  for (const suffix of ['_bucket', '_count', '_sum']) {
    if (name.endsWith(suffix) && ['histogram', 'summary'].includes(types.get(name.slice(0, -suffix.length)) ?? '')) return name.slice(0, -suffix.length);
  }
  return name;
}

interface Expression {
  readonly where: string;
  readonly expr: string;
}

function dashboardExpressions(dashboard: Dashboard): Expression[] {
  const found: Expression[] = [];
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) found.push({ where: `panel ${panel.id} "${panel.title}" ${target.refId}`, expr: substituteGrafanaVariables(target.expr) });
  }
  for (const variable of dashboard.templating.list) {
    if (variable.type !== 'query') continue;
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query ?? '';
    const labelValues = /^label_values\((.+),\s*([A-Za-z_]\w*)\)$/.exec(query);
    assert.ok(labelValues, `variable ${variable.name}: expected label_values(selector, label), got ${query}`);
    found.push({ where: `variable ${variable.name}`, expr: substituteGrafanaVariables(labelValues[1]!) });
  }
  return found;
}

function alertExpressions(): Expression[] {
  const rules = parse(readFileSync(join(chart, 'alerts', 'countersign.rules.yaml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
  return rules.groups.flatMap((g) => g.rules).map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }));
}

/** A regex matcher as Prometheus applies it: anchored at both ends. */
function matches(op: string, pattern: string, value: string): boolean {
  const re = new RegExp(`^(?:${pattern})$`);
  switch (op) {
    case '=':
      return value === pattern;
    case '!=':
      return value !== pattern;
    case '=~':
      return re.test(value);
    default:
      return !re.test(value);
  }
}

describe('dashboard and alerts against /metrics', () => {
  let upstream: FakeRegistry;
  let cs: Running;
  let exposition: Exposition;
  const dashboard = JSON.parse(readFileSync(join(chart, 'dashboards', 'countersign.json'), 'utf8')) as Dashboard;
  const expressions = [...dashboardExpressions(dashboard), ...alertExpressions()];

  before(async () => {
    upstream = await FakeRegistry.start({ key: createRegistryKey() });
    await upstream.publish([
      { name: 'kappa', version: '1.0.0' },
      { name: 'kappa', version: '1.0.1', tamper: true },
      { name: 'kappa', version: '1.1.0', sign: 'invalid' },
    ]);
    upstream.fault(/^\/broken$/, { kind: 'status', status: 503 });
    cs = await startCountersign({ yaml: verifyConfig(upstream.url) });
    const json = { accept: 'application/json' };
    const expect = async (path: string, status: number, headers: Record<string, string> = {}) => {
      const res = await fetch(`${cs.url}${path}`, { headers });
      await res.arrayBuffer();
      assert.equal(res.status, status, `${path}`);
    };
    await expect('kappa', 200, json);
    await expect('kappa', 200, json); // packument cache hit
    await expect('kappa/-/kappa-1.0.0.tgz', 200);
    await expect('kappa/-/kappa-1.0.0.tgz', 200); // tarball memory hit
    await expect('kappa/-/kappa-1.0.1.tgz', 502); // integrity mismatch
    await expect('kappa/-/kappa-1.1.0.tgz', 403); // hidden: signature-invalid
    await expect('broken', 502, json); // upstream 503
    await expect('-/readyz', 200);
    const scrape = await fetch(`${cs.url}metrics`, { headers: { accept: 'text/plain' } });
    assert.equal(scrape.status, 200);
    exposition = parseExposition(await scrape.text());
  });

  after(async () => {
    await cs?.close();
    await upstream?.close();
  });

  it('finds expressions in every dashboard panel and every alert', () => {
    const panels = dashboard.panels.filter((p) => p.type !== 'row');
    for (const panel of panels) assert.ok((panel.targets ?? []).length > 0, `panel ${panel.title} has no query`);
    assert.ok(expressions.length >= 35, `only ${expressions.length} expressions`);
  });

  it('reads only metrics countersign exports, with labels and values that exist', () => {
    const problems: string[] = [];
    for (const { where, expr } of expressions) {
      const { selectors, groupings } = namesIn(expr);
      assert.ok(selectors.length > 0, `${where}: no metric in ${expr}`);
      const seriesOf = (s: Selector) => exposition.samples.get(s.metric) ?? [];
      for (const selector of selectors) {
        if (SYNTHETIC_METRICS.has(selector.metric)) continue;
        const series = seriesOf(selector);
        if (series.length === 0) {
          problems.push(`${where}: ${selector.metric} is not exported (or has no series after the test's requests)`);
          continue;
        }
        for (const m of selector.matchers) {
          if (TARGET_LABELS.has(m.label)) continue;
          if (!series.some((labels) => m.label in labels)) {
            problems.push(`${where}: ${selector.metric} has no label ${m.label}`);
            continue;
          }
          if (m.op === '=' || m.op === '=~') {
            const values = [...new Set(series.map((labels) => labels[m.label] ?? ''))];
            if (!values.some((v) => matches(m.op, m.value, v))) problems.push(`${where}: ${selector.metric}{${m.label}${m.op}"${m.value}"} matches none of ${values.join(', ')}`);
          }
        }
      }
      const available = new Set(selectors.flatMap((s) => seriesOf(s).flatMap((labels) => Object.keys(labels))));
      for (const label of groupings) {
        if (!TARGET_LABELS.has(label) && !available.has(label)) problems.push(`${where}: groups by ${label}, which none of its metrics has`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('shows every countersign metric on the dashboard', () => {
    const used = new Set(
      dashboardExpressions(dashboard).flatMap(({ expr }) => namesIn(expr).selectors.map((s) => baseName(s.metric, exposition.types))),
    );
    const exported = [...exposition.types.keys()].filter((name) => name.startsWith('countersign_'));
    assert.ok(exported.length >= 10);
    assert.deepEqual(exported.filter((name) => !used.has(name)), [], 'exported but not on the dashboard');
  });

  it('lists every countersign metric in the README, and nothing else', () => {
    const section = markdownSection(readFileSync(join(root, 'README.md'), 'utf8'), 'metrics');
    assert.ok(section, 'README has no "Metrics" section');
    const listed = new Set([...section.matchAll(/`(countersign_[a-z0-9_]+)(?:\{[^`]*\})?`/g)].map((m) => m[1]!));
    const exported = new Set([...exposition.types.keys()].filter((name) => name.startsWith('countersign_')));
    assert.deepEqual([...listed].filter((n) => !exported.has(n)), [], 'in the README but not exported');
    assert.deepEqual([...exported].filter((n) => !listed.has(n)), [], 'exported but not in the README');
  });

  it('has dashboard expressions that promtool parses (as recording rules)', (t) => {
    const bin = promtool(t);
    if (!bin) return;
    const dir = mkdtempSync(join(tmpdir(), 'cs-dashboard-rules-'));
    try {
      const rules = dashboardExpressions(dashboard).map(({ expr }, i) => ({ record: `countersign:dashboard_expression:${i}`, expr }));
      writeFileSync(join(dir, 'dashboard.rules.yaml'), stringify({ groups: [{ name: 'dashboard', rules }] }));
      const result = runPromtool(bin, ['check', 'rules', 'dashboard.rules.yaml'], dir);
      assert.ok(result.ok, result.output);
      assert.match(result.output, new RegExp(`SUCCESS: ${rules.length} rules found`));
      // And it would say so if one did not.
      writeFileSync(join(dir, 'broken.rules.yaml'), stringify({ groups: [{ name: 'broken', rules: [{ record: 'countersign:broken', expr: 'sum by (le (rate(countersign_ready[5m]))' }] }] }));
      assert.equal(runPromtool(bin, ['check', 'rules', 'broken.rules.yaml'], dir).ok, false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
