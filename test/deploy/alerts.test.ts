// The alerting rules (helm/countersign/alerts): promtool checks and unit-tests them, every alert
// follows the conventions (thanos' examples: CamelCase, severity, summary/description/runbook_url)
// and has a runbook section in the README, and the unit tests cover each alert firing and silent.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { promtool, runPromtool } from '../helpers/promql.js';
import { markdownAnchors } from '../helpers/markdown.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const alertsDir = join(root, 'helm', 'countersign', 'alerts');
const RULES = 'countersign.rules.yaml';
const TESTS = 'countersign.rules.test.yaml';

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface RuleTests {
  rule_files: string[];
  tests: Array<{ alert_rule_test?: Array<{ alertname: string; eval_time: string; exp_alerts?: unknown[] }> }>;
}

const rulesText = readFileSync(join(alertsDir, RULES), 'utf8');
const alerts = (parse(rulesText) as { groups: Array<{ rules: AlertRule[] }> }).groups.flatMap((g) => g.rules);
const ruleTests = parse(readFileSync(join(alertsDir, TESTS), 'utf8')) as RuleTests;

describe('alerting rules', () => {
  it('has the alerts the runbook promises', () => {
    assert.deepEqual(alerts.map((a) => a.alert).sort(), [
      'CountersignDown',
      'CountersignNotReady',
      'CountersignTarballIntegrityFailure',
      'CountersignTargetDown',
      'CountersignUpstreamErrorRateHigh',
      'CountersignVerificationSlow',
    ]);
  });

  it('names, labels and annotates every alert the same way, with a README runbook section', () => {
    const anchors = markdownAnchors(readFileSync(join(root, 'README.md'), 'utf8'));
    for (const rule of alerts) {
      assert.match(rule.alert, /^Countersign[A-Z][A-Za-z]+$/, 'CamelCase, prefixed with Countersign');
      assert.ok(['critical', 'warning', 'info'].includes(rule.labels?.severity ?? ''), `${rule.alert}: severity critical|warning|info`);
      for (const key of ['summary', 'description', 'runbook_url']) assert.ok(rule.annotations?.[key], `${rule.alert}: annotation ${key}`);
      const url = new URL(rule.annotations!.runbook_url!);
      assert.equal(`${url.origin}${url.pathname}`, 'https://github.com/countersign/countersign');
      assert.equal(url.hash, `#${rule.alert.toLowerCase()}`, `${rule.alert}: runbook anchor`);
      assert.ok(anchors.has(url.hash.slice(1)), `README has no section ${rule.alert} (anchor ${url.hash})`);
    }
  });

  it('alerts on tampering at once and on everything else only after it lasted', () => {
    for (const rule of alerts) {
      if (rule.alert === 'CountersignTarballIntegrityFailure') {
        assert.equal(rule.for, undefined);
        assert.equal(rule.labels?.severity, 'critical');
      } else assert.match(rule.for ?? '', /^\d+m$/, `${rule.alert}: a for: duration`);
    }
  });

  it('alerts on verification latency only while there is traffic', () => {
    const slow = alerts.find((a) => a.alert === 'CountersignVerificationSlow')!;
    assert.match(slow.expr, /histogram_quantile\(0\.99,/);
    assert.match(slow.expr, /\band\b[\s\S]*rate\(countersign_verification_duration_seconds_count/);
  });

  it('has unit tests for every alert, firing and silent', () => {
    assert.deepEqual(ruleTests.rule_files, [RULES]);
    const cases = ruleTests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const rule of alerts) {
      const mine = cases.filter((c) => c.alertname === rule.alert);
      assert.ok(mine.some((c) => (c.exp_alerts ?? []).length > 0), `${rule.alert}: no test where it fires`);
      assert.ok(mine.some((c) => (c.exp_alerts ?? []).length === 0), `${rule.alert}: no test where it stays silent`);
    }
  });

  it('passes promtool check rules', (t) => {
    const bin = promtool(t);
    if (!bin) return;
    const result = runPromtool(bin, ['check', 'rules', RULES], alertsDir);
    assert.ok(result.ok, result.output);
    assert.match(result.output, new RegExp(`SUCCESS: ${alerts.length} rules found`));
  });

  it('passes promtool test rules', (t) => {
    const bin = promtool(t);
    if (!bin) return;
    const result = runPromtool(bin, ['test', 'rules', TESTS], alertsDir);
    assert.ok(result.ok, result.output);
  });

  it('would notice a broken rule: promtool test rules fails when a threshold moves', (t) => {
    const bin = promtool(t);
    if (!bin) return;
    const dir = mkdtempSync(join(tmpdir(), 'cs-rules-'));
    try {
      copyFileSync(join(alertsDir, TESTS), join(dir, TESTS));
      const broken = rulesText.replace(') > 2.5\n', ') > 10\n');
      assert.notEqual(broken, rulesText, 'the mutation did not apply: update this test');
      writeFileSync(join(dir, RULES), broken);
      const result = runPromtool(bin, ['test', 'rules', TESTS], dir);
      assert.equal(result.ok, false, 'promtool test rules passed with a broken threshold');
      assert.match(result.output, /CountersignVerificationSlow/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
