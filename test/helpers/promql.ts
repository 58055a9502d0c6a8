import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';

/**
 * What a PromQL expression reads: the metric names it selects, with their label matchers, and the
 * labels it groups by. A lexer, not a parser: `promtool check rules` is what says an expression
 * parses; this only needs to find names reliably in expressions that do.
 */
export interface Matcher {
  readonly label: string;
  readonly op: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

export interface Selector {
  readonly metric: string;
  readonly matchers: readonly Matcher[];
}

export interface ExpressionNames {
  readonly selectors: readonly Selector[];
  /** Labels named in by (...), without (...), on (...), ignoring (...), group_left/right (...). */
  readonly groupings: readonly string[];
}

const KEYWORDS = new Set([
  'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio',
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless', 'atan2', 'inf', 'nan', 'start', 'end',
]);
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

function readString(text: string, at: number): { value: string; end: number } {
  const quote = text[at]!;
  let value = '';
  let i = at + 1;
  while (i < text.length && text[i] !== quote) {
    if (text[i] === '\\' && quote !== '`') {
      value += text[i + 1] ?? '';
      i += 2;
    } else value += text[i++];
  }
  if (i >= text.length) throw new Error(`unterminated string in ${text}`);
  return { value, end: i + 1 };
}

export function namesIn(expr: string): ExpressionNames {
  const selectors: Selector[] = [];
  const groupings: string[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < expr.length && /\s/.test(expr[i]!)) i++;
    if (expr[i] === '#') {
      while (i < expr.length && expr[i] !== '\n') i++;
      skipSpace();
    }
  };
  const ident = /[A-Za-z_:][A-Za-z0-9_:]*/y;
  let lastKeyword = '';
  while (i < expr.length) {
    skipSpace();
    const c = expr[i];
    if (c === undefined) break;
    if (c === '"' || c === "'" || c === '`') {
      i = readString(expr, i).end;
      continue;
    }
    if (c === '[') {
      i = expr.indexOf(']', i) + 1;
      if (i === 0) throw new Error(`unterminated range in ${expr}`);
      continue;
    }
    if (/[0-9.]/.test(c)) {
      while (i < expr.length && /[0-9A-Za-z.+]/.test(expr[i]!) && !(expr[i] === '+' && !/[eE]/.test(expr[i - 1]!))) i++;
      continue;
    }
    if (c === '(' && GROUPING.has(lastKeyword)) {
      const close = expr.indexOf(')', i);
      groupings.push(...expr.slice(i + 1, close).split(',').map((l) => l.trim()).filter(Boolean));
      i = close + 1;
      lastKeyword = '';
      continue;
    }
    ident.lastIndex = i;
    const word = ident.exec(expr);
    if (!word) {
      if (c === '{') {
        // A selector without a metric name: {__name__="..."}; not used by us, so refuse it.
        throw new Error(`selector without a metric name in ${expr}`);
      }
      i++;
      lastKeyword = '';
      continue;
    }
    const name = word[0];
    i += name.length;
    skipSpace();
    if (expr[i] === '(' && !GROUPING.has(name)) {
      lastKeyword = '';
      continue; // a function or an aggregation
    }
    if (KEYWORDS.has(name)) {
      lastKeyword = name;
      continue;
    }
    lastKeyword = '';
    const matchers: Matcher[] = [];
    if (expr[i] === '{') {
      i++;
      for (;;) {
        skipSpace();
        if (expr[i] === '}') {
          i++;
          break;
        }
        ident.lastIndex = i;
        const label = ident.exec(expr);
        if (!label) throw new Error(`cannot read the matchers of ${name} in ${expr}`);
        i += label[0].length;
        skipSpace();
        const op = /^(=~|!~|!=|=)/.exec(expr.slice(i))![1] as Matcher['op'];
        i += op.length;
        skipSpace();
        const value = readString(expr, i);
        i = value.end;
        matchers.push({ label: label[0], op, value: value.value });
        skipSpace();
        if (expr[i] === ',') i++;
      }
    }
    selectors.push({ metric: name, matchers });
  }
  return { selectors, groupings };
}

/** Grafana's variables, replaced by values that make the expression valid PromQL. */
export function substituteGrafanaVariables(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '5m')
    .replaceAll('$__interval', '1m')
    .replaceAll('$__range', '1h')
    .replace(/\$\{?(job|instance|namespace)\}?/g, '.*');
}

/**
 * The promtool binary (Debian's `prometheus` package; .ci/run installs it). Missing, the test
 * fails, unless COUNTERSIGN_SKIP_PROMTOOL=1 asks explicitly to skip it.
 */
export function promtool(t: TestContext): string | undefined {
  const probe = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  if (probe.status === 0) return 'promtool';
  if (process.env.COUNTERSIGN_SKIP_PROMTOOL === '1') {
    t.skip('promtool is not installed and COUNTERSIGN_SKIP_PROMTOOL=1');
    return undefined;
  }
  throw new Error(
    'promtool is not installed: `apt-get install prometheus` (Debian\'s package, which .ci/run installs) or set COUNTERSIGN_SKIP_PROMTOOL=1 to skip the rule checks explicitly',
  );
}

export function runPromtool(binary: string, args: string[], cwd: string): { ok: boolean; output: string } {
  const result = spawnSync(binary, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}
