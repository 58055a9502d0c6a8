import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse as parseYaml, parseAllDocuments, stringify } from 'yaml';

/**
 * A renderer for the subset of Helm's templates that helm/countersign uses, so that the chart's
 * test can render it where no helm binary is installed. It follows Go's text/template for what it
 * implements (trim markers, comments, if/else if/else, range over lists and maps, with, define,
 * include, template, variables with block scope, pipelines, parenthesized commands) and Helm for
 * values (numbers are float64: `1` prints as 1, 1000000 as 1e+06, and comparing one with an int
 * literal is an error, as in Helm) and for `.Files.Get`, `.Template.BasePath` and the merge of
 * user values over values.yaml (maps merge, lists replace, null deletes).
 *
 * Sprig functions implemented: the ones in FUNCTIONS below. A template calling any other function
 * fails to parse, as in Helm. Where Helm would print something useless and go on (a map printed
 * with {{ }}, a missing chart file), this renderer throws: the chart must not do either.
 *
 * Not covered: lookup, tpl, Capabilities, and every sprig function not listed; the exact text of
 * toYaml (the `yaml` package's, semantically the same YAML as Helm's); Kubernetes' own validation.
 */

/** A Go float64: what every number in Helm's values is. */
export class GoFloat {
  constructor(readonly value: number) {}
}

type Value = unknown;

class TemplateError extends Error {}

// ---- lexing ------------------------------------------------------------------------------------

type Token =
  | { t: 'string'; v: string }
  | { t: 'number'; v: number; float: boolean }
  | { t: 'bool'; v: boolean }
  | { t: 'nil' }
  | { t: 'ident'; v: string }
  | { t: 'var'; v: string } // $ or $name
  | { t: 'field'; v: string[] } // .A.B (empty list: the dot itself)
  | { t: 'chain'; v: string[] } // .A.B directly after a term: $x.A, (...).A
  | { t: 'punct'; v: '(' | ')' | '|' | ',' | ':=' | '=' };

const SPACE = /\s/;

function unquote(raw: string): string {
  return raw.replace(/\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)/g, (_m, e: string) => {
    switch (e[0]) {
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case 'u':
      case 'x':
        return String.fromCharCode(parseInt(e.slice(1), 16));
      default:
        return e;
    }
  });
}

function lexAction(src: string, where: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fieldChain = (): string[] => {
    const names: string[] = [];
    while (src[i] === '.' && /[A-Za-z_]/.test(src[i + 1] ?? '')) {
      const m = /^\.([A-Za-z_][A-Za-z0-9_]*)/.exec(src.slice(i))!;
      names.push(m[1]!);
      i += m[0].length;
    }
    return names;
  };
  while (i < src.length) {
    const c = src[i]!;
    if (SPACE.test(c)) {
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      if (j >= src.length) throw new TemplateError(`${where}: unterminated string`);
      tokens.push({ t: 'string', v: unquote(src.slice(i + 1, j)) });
      i = j + 1;
    } else if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j === -1) throw new TemplateError(`${where}: unterminated raw string`);
      tokens.push({ t: 'string', v: src.slice(i + 1, j) });
      i = j + 1;
    } else if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(src.slice(i))!;
      tokens.push({ t: 'number', v: Number(m[0]), float: m[1] !== undefined || m[2] !== undefined });
      i += m[0].length;
    } else if (c === '$') {
      const m = /^\$[A-Za-z0-9_]*/.exec(src.slice(i))!;
      tokens.push({ t: 'var', v: m[0] });
      i += m[0].length;
      const chain = fieldChain();
      if (chain.length > 0) tokens.push({ t: 'chain', v: chain });
    } else if (c === '.') {
      if (/[A-Za-z_]/.test(src[i + 1] ?? '')) tokens.push({ t: 'field', v: fieldChain() });
      else {
        tokens.push({ t: 'field', v: [] });
        i++;
      }
    } else if (c === '(' || c === ')' || c === '|' || c === ',') {
      tokens.push({ t: 'punct', v: c });
      i++;
      if (c === ')') {
        const chain = fieldChain();
        if (chain.length > 0) tokens.push({ t: 'chain', v: chain });
      }
    } else if (src.startsWith(':=', i)) {
      tokens.push({ t: 'punct', v: ':=' });
      i += 2;
    } else if (c === '=') {
      tokens.push({ t: 'punct', v: '=' });
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      const word = m[0];
      if (word === 'true' || word === 'false') tokens.push({ t: 'bool', v: word === 'true' });
      else if (word === 'nil') tokens.push({ t: 'nil' });
      else tokens.push({ t: 'ident', v: word });
      i += word.length;
    } else {
      throw new TemplateError(`${where}: unexpected character ${JSON.stringify(c)} in {{${src}}}`);
    }
  }
  return tokens;
}

// ---- parsing -----------------------------------------------------------------------------------

type Operand =
  | { k: 'lit'; v: Value }
  | { k: 'field'; on: Operand | null; names: string[] } // on null: the dot
  | { k: 'var'; name: string }
  | { k: 'fn'; name: string }
  | { k: 'pipe'; pipe: Pipeline };

interface Command {
  readonly args: Operand[];
}

interface Pipeline {
  readonly decl: string[];
  readonly assign: boolean; // `=` rather than `:=`
  readonly cmds: Command[];
}

type Node =
  | { k: 'text'; v: string }
  | { k: 'action'; pipe: Pipeline }
  | { k: 'if'; pipe: Pipeline; then: Node[]; else: Node[] }
  | { k: 'with'; pipe: Pipeline; then: Node[]; else: Node[] }
  | { k: 'range'; pipe: Pipeline; then: Node[]; else: Node[] }
  | { k: 'template'; name: string; pipe: Pipeline | null };

type Segment = { k: 'text'; v: string } | { k: 'action'; src: string; line: number };

/** Splits a template into text and actions, applying `{{-` / `-}}` trimming and dropping comments. */
function segment(text: string, name: string): Segment[] {
  const out: Segment[] = [];
  let i = 0;
  let trimNext = false;
  const line = (at: number) => text.slice(0, at).split('\n').length;
  while (i < text.length) {
    const open = text.indexOf('{{', i);
    let chunk = open === -1 ? text.slice(i) : text.slice(i, open);
    if (trimNext) chunk = chunk.replace(/^\s+/, '');
    trimNext = false;
    if (open === -1) {
      if (chunk) out.push({ k: 'text', v: chunk });
      break;
    }
    let start = open + 2;
    if (text[start] === '-' && SPACE.test(text[start + 1] ?? '')) {
      chunk = chunk.replace(/\s+$/, '');
      start += 2;
    }
    if (chunk) out.push({ k: 'text', v: chunk });
    // A comment runs to the first */, which must close the action: {{/* c */}} or {{- /* c */ -}}.
    if (text.startsWith('/*', start)) {
      const close = text.indexOf('*/', start + 2);
      const after = close === -1 ? undefined : /^(\s+-)?\}\}/.exec(text.slice(close + 2));
      if (!after) throw new TemplateError(`${name}:${line(open)}: comment ends before closing delimiter`);
      trimNext = after[1] !== undefined;
      i = close + 2 + after[0].length;
      continue;
    }
    // Find the closing }} outside string literals.
    let j = start;
    let quote: string | undefined;
    while (j < text.length) {
      const c = text[j]!;
      if (quote) {
        if (c === '\\' && quote === '"') j++;
        else if (c === quote) quote = undefined;
      } else if (c === '"' || c === '`') quote = c;
      else if (text.startsWith('}}', j)) break;
      j++;
    }
    if (j >= text.length) throw new TemplateError(`${name}:${line(open)}: unclosed action`);
    let end = j;
    if (text[end - 1] === '-' && SPACE.test(text[end - 2] ?? '')) {
      trimNext = true;
      end -= 2;
    }
    const src = text.slice(start, end).trim();
    i = j + 2;
    out.push({ k: 'action', src, line: line(open) });
  }
  return out;
}

class Parser {
  #tokens: Token[] = [];
  #at = 0;
  #where = '';

  constructor(private readonly funcs: ReadonlySet<string>) {}

  pipeline(tokens: Token[], where: string): Pipeline {
    this.#tokens = tokens;
    this.#at = 0;
    this.#where = where;
    const pipe = this.#pipeline(true);
    if (this.#at < this.#tokens.length) throw new TemplateError(`${where}: unexpected ${JSON.stringify(this.#tokens[this.#at])}`);
    return pipe;
  }

  #peek(): Token | undefined {
    return this.#tokens[this.#at];
  }

  #pipeline(allowDecl: boolean): Pipeline {
    const decl: string[] = [];
    let assign = false;
    if (allowDecl) {
      // $x := ..., $i, $v := ..., $x = ...
      let look = this.#at;
      const vars: string[] = [];
      while (this.#tokens[look]?.t === 'var') {
        vars.push((this.#tokens[look] as { v: string }).v);
        look++;
        const next = this.#tokens[look];
        if (next?.t === 'punct' && next.v === ',') {
          look++;
          continue;
        }
        if (next?.t === 'punct' && (next.v === ':=' || next.v === '=')) {
          decl.push(...vars);
          assign = next.v === '=';
          this.#at = look + 1;
        }
        break;
      }
    }
    const cmds: Command[] = [];
    for (;;) {
      const args: Operand[] = [];
      for (;;) {
        const token = this.#peek();
        if (!token || (token.t === 'punct' && (token.v === '|' || token.v === ')'))) break;
        args.push(this.#operand());
      }
      if (args.length === 0) throw new TemplateError(`${this.#where}: missing command`);
      cmds.push({ args });
      const next = this.#peek();
      if (next?.t === 'punct' && next.v === '|') {
        this.#at++;
        continue;
      }
      break;
    }
    return { decl, assign, cmds };
  }

  #operand(): Operand {
    const token = this.#tokens[this.#at++]!;
    let operand: Operand;
    switch (token.t) {
      case 'string':
      case 'bool':
        operand = { k: 'lit', v: token.v };
        break;
      case 'number':
        operand = { k: 'lit', v: token.float ? new GoFloat(token.v) : token.v };
        break;
      case 'nil':
        operand = { k: 'lit', v: null };
        break;
      case 'field':
        operand = { k: 'field', on: null, names: token.v };
        break;
      case 'var':
        operand = { k: 'var', name: token.v };
        break;
      case 'ident':
        if (!this.funcs.has(token.v)) throw new TemplateError(`${this.#where}: function "${token.v}" not defined`);
        operand = { k: 'fn', name: token.v };
        break;
      case 'punct':
        if (token.v !== '(') throw new TemplateError(`${this.#where}: unexpected ${token.v}`);
        operand = { k: 'pipe', pipe: this.#pipeline(true) };
        if (this.#tokens[this.#at]?.t !== 'punct' || (this.#tokens[this.#at] as { v: string }).v !== ')') throw new TemplateError(`${this.#where}: unclosed (`);
        this.#at++;
        break;
      default:
        throw new TemplateError(`${this.#where}: unexpected ${JSON.stringify(token)}`);
    }
    const chain = this.#peek();
    if (chain?.t === 'chain') {
      this.#at++;
      operand = { k: 'field', on: operand, names: chain.v };
    }
    return operand;
  }
}

interface ParsedFile {
  readonly body: Node[];
  readonly defines: Map<string, Node[]>;
}

function parseTemplate(text: string, name: string, funcs: ReadonlySet<string>): ParsedFile {
  const segments = segment(text, name);
  const parser = new Parser(funcs);
  const defines = new Map<string, Node[]>();
  let at = 0;

  /** Parses nodes until one of `stops` ({{end}}, {{else ...}}); returns the nodes and the stop. */
  function list(stops: string[]): { nodes: Node[]; stop: string; rest: Token[] } {
    const nodes: Node[] = [];
    while (at < segments.length) {
      const seg = segments[at++]!;
      if (seg.k === 'text') {
        nodes.push({ k: 'text', v: seg.v });
        continue;
      }
      const where = `${name}:${seg.line}`;
      const tokens = lexAction(seg.src, where);
      const head = tokens[0];
      const keyword = head?.t === 'ident' ? head.v : '';
      if (stops.includes(keyword)) return { nodes, stop: keyword, rest: tokens.slice(1) };
      if (keyword === 'end' || keyword === 'else') throw new TemplateError(`${where}: unexpected {{${keyword}}}`);
      if (keyword === 'if' || keyword === 'with' || keyword === 'range') {
        nodes.push(block(keyword, tokens.slice(1), where));
      } else if (keyword === 'define') {
        const nameToken = tokens[1];
        if (nameToken?.t !== 'string') throw new TemplateError(`${where}: define needs a name`);
        const inner = list(['end']);
        defines.set(nameToken.v, inner.nodes);
      } else if (keyword === 'template') {
        const nameToken = tokens[1];
        if (nameToken?.t !== 'string') throw new TemplateError(`${where}: template needs a name`);
        nodes.push({ k: 'template', name: nameToken.v, pipe: tokens.length > 2 ? parser.pipeline(tokens.slice(2), where) : null });
      } else if (keyword === 'block' || keyword === 'break' || keyword === 'continue') {
        throw new TemplateError(`${where}: {{${keyword}}} is not supported by this renderer`);
      } else {
        nodes.push({ k: 'action', pipe: parser.pipeline(tokens, where) });
      }
    }
    if (stops.length > 0) throw new TemplateError(`${name}: missing {{end}}`);
    return { nodes, stop: '', rest: [] };
  }

  function block(kind: 'if' | 'with' | 'range', tokens: Token[], where: string): Node {
    const pipe = parser.pipeline(tokens, where);
    const then = list(['else', 'end']);
    let otherwise: Node[] = [];
    if (then.stop === 'else') {
      const next = then.rest[0];
      if (kind === 'if' && next?.t === 'ident' && next.v === 'if') {
        // {{else if x}} is {{else}}{{if x}} ... {{end}}{{end}} sharing the final {{end}}.
        otherwise = [block('if', then.rest.slice(1), where)];
        return { k: kind, pipe, then: then.nodes, else: otherwise };
      }
      if (then.rest.length > 0) throw new TemplateError(`${where}: unexpected tokens after else`);
      otherwise = list(['end']).nodes;
    }
    return { k: kind, pipe, then: then.nodes, else: otherwise };
  }

  const body = list([]).nodes;
  return { body, defines };
}

// ---- values ------------------------------------------------------------------------------------

type Kind = 'nil' | 'bool' | 'int' | 'float' | 'string' | 'list' | 'map' | 'func';

function kindOf(v: Value): Kind {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'int';
  if (v instanceof GoFloat) return 'float';
  if (typeof v === 'string') return 'string';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'function') return 'func';
  return 'map';
}

function truth(v: Value): boolean {
  switch (kindOf(v)) {
    case 'nil':
      return false;
    case 'bool':
      return v as boolean;
    case 'int':
      return v !== 0;
    case 'float':
      return (v as GoFloat).value !== 0;
    case 'string':
      return v !== '';
    case 'list':
      return (v as unknown[]).length > 0;
    case 'map':
      return Object.keys(v as object).length > 0;
    default:
      return true;
  }
}

/**
 * Go's %v of a float64: strconv's shortest 'g' form, which switches to an exponent below 1e-4 and
 * from 1e+06 on (so a value of 1000000 prints as 1e+06 in Helm).
 */
export function formatFloat(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (!Number.isFinite(f)) return f > 0 ? '+Inf' : '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const [mantissa, e] = f.toExponential().split('e') as [string, string];
  const exp = Number(e);
  if (exp < -4 || exp >= 6) return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(f);
}

function printValue(v: Value, where: string): string {
  switch (kindOf(v)) {
    case 'nil':
      return ''; // Helm replaces <no value> with nothing
    case 'bool':
    case 'int':
    case 'string':
      return String(v);
    case 'float':
      return formatFloat((v as GoFloat).value);
    default:
      throw new TemplateError(`${where}: printing a ${kindOf(v)} (${JSON.stringify(plain(v))?.slice(0, 80)}); use toYaml or a scalar`);
  }
}

/** Values as plain JSON data (GoFloat unwrapped), for toYaml and toJson. */
function plain(v: Value): unknown {
  if (v instanceof GoFloat) return v.value;
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/** Numbers in values become float64, as Helm's JSON-based YAML decoding makes them. */
export function fromYamlValues(v: unknown): Value {
  if (typeof v === 'number') return new GoFloat(v);
  if (Array.isArray(v)) return v.map(fromYamlValues);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromYamlValues(x)]));
  return v;
}

function deepCopy(v: Value): Value {
  if (v instanceof GoFloat) return v;
  if (Array.isArray(v)) return v.map(deepCopy);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deepCopy(x)]));
  return v;
}

function toStringValue(v: Value): string {
  if (kindOf(v) === 'nil') return '';
  if (typeof v === 'string') return v;
  if (v instanceof GoFloat) return formatFloat(v.value);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new TemplateError(`cannot turn a ${kindOf(v)} into a string here`);
}

function goQuote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/\r/g, '\\r')}"`;
}

function compare(op: string, a: Value, b: Value): boolean {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka !== kb || !['bool', 'int', 'float', 'string'].includes(ka)) {
    if ((op === 'eq' || op === 'ne') && (ka === 'nil' || kb === 'nil') && ka !== kb) return op === 'ne';
    throw new TemplateError(`error calling ${op}: incompatible types for comparison (${ka} and ${kb})`);
  }
  const x = a instanceof GoFloat ? a.value : (a as number | string | boolean);
  const y = b instanceof GoFloat ? b.value : (b as number | string | boolean);
  switch (op) {
    case 'eq':
      return x === y;
    case 'ne':
      return x !== y;
    case 'lt':
      return x < y;
    case 'le':
      return x <= y;
    case 'gt':
      return x > y;
    default:
      return x >= y;
  }
}

function toInt(v: Value): number {
  if (v instanceof GoFloat) return Math.trunc(v.value);
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return /^-?\d+$/.test(v) ? Number(v) : 0;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return 0;
}

function isMap(v: Value): v is Record<string, Value> {
  return kindOf(v) === 'map';
}

function sprintf(format: string, args: Value[]): string {
  let n = 0;
  return format.replace(/%([%svdq])/g, (_m, verb: string) => {
    if (verb === '%') return '%';
    const arg = args[n++];
    switch (verb) {
      case 's':
        if (typeof arg !== 'string') throw new TemplateError(`printf: %s with a ${kindOf(arg)}`);
        return arg;
      case 'd':
        if (typeof arg !== 'number') throw new TemplateError(`printf: %d with a ${kindOf(arg)} (Helm prints %!d(float64=...) for a value; use int)`);
        return String(arg);
      case 'q':
        return goQuote(toStringValue(arg));
      default:
        return printValue(arg, 'printf');
    }
  });
}

// ---- execution ---------------------------------------------------------------------------------

type Fn = (args: Value[]) => Value;

/** Sprig and Go builtins this renderer implements. `and`, `or`, `include`, `template` are special. */
const FUNCTIONS: Record<string, Fn> = {
  not: ([a]) => !truth(a),
  eq: ([a, ...rest]) => rest.some((b) => compare('eq', a, b)),
  ne: ([a, b]) => compare('ne', a, b),
  lt: ([a, b]) => compare('lt', a, b),
  le: ([a, b]) => compare('le', a, b),
  gt: ([a, b]) => compare('gt', a, b),
  ge: ([a, b]) => compare('ge', a, b),
  len: ([a]) => {
    if (typeof a === 'string' || Array.isArray(a)) return a.length;
    if (isMap(a)) return Object.keys(a).length;
    throw new TemplateError(`len of a ${kindOf(a)}`);
  },
  print: (args) => args.map((a, i) => (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string' ? ' ' : '') + toStringValue(a)).join(''),
  printf: ([format, ...args]) => sprintf(String(format), args),
  default: ([fallback, given]) => (truth(given) ? given : fallback),
  empty: ([a]) => !truth(a),
  required: ([message, value]) => {
    if (kindOf(value) === 'nil' || value === '') throw new TemplateError(`execution error: ${String(message)}`);
    return value;
  },
  fail: ([message]) => {
    throw new TemplateError(`execution error: ${String(message)}`);
  },
  toYaml: ([a]) => (kindOf(a) === 'nil' ? 'null' : stringify(plain(a), { sortMapEntries: true, lineWidth: 0 }).replace(/\n$/, '')),
  toJson: ([a]) => JSON.stringify(plain(a) ?? null),
  indent: ([n, s]) => {
    const pad = ' '.repeat(toInt(n));
    return pad + toStringValue(s).replace(/\n/g, `\n${pad}`);
  },
  nindent: ([n, s]) => {
    const pad = ' '.repeat(toInt(n));
    return `\n${pad}${toStringValue(s).replace(/\n/g, `\n${pad}`)}`;
  },
  quote: (args) => args.filter((a) => kindOf(a) !== 'nil').map((a) => goQuote(toStringValue(a))).join(' '),
  squote: (args) => args.filter((a) => kindOf(a) !== 'nil').map((a) => `'${toStringValue(a)}'`).join(' '),
  trim: ([s]) => toStringValue(s).trim(),
  trimSuffix: ([suffix, s]) => {
    const text = toStringValue(s);
    const end = toStringValue(suffix);
    return end && text.endsWith(end) ? text.slice(0, -end.length) : text;
  },
  trimPrefix: ([prefix, s]) => {
    const text = toStringValue(s);
    const start = toStringValue(prefix);
    return start && text.startsWith(start) ? text.slice(start.length) : text;
  },
  trunc: ([n, s]) => toStringValue(s).slice(0, toInt(n)),
  upper: ([s]) => toStringValue(s).toUpperCase(),
  lower: ([s]) => toStringValue(s).toLowerCase(),
  replace: ([from, to, s]) => toStringValue(s).split(toStringValue(from)).join(toStringValue(to)),
  contains: ([needle, haystack]) => toStringValue(haystack).includes(toStringValue(needle)),
  hasPrefix: ([prefix, s]) => toStringValue(s).startsWith(toStringValue(prefix)),
  b64enc: ([s]) => Buffer.from(toStringValue(s), 'utf8').toString('base64'),
  sha256sum: ([s]) => createHash('sha256').update(toStringValue(s)).digest('hex'),
  int: ([a]) => toInt(a),
  int64: ([a]) => toInt(a),
  float64: ([a]) => new GoFloat(a instanceof GoFloat ? a.value : Number(toStringValue(a)) || 0),
  toString: (args: Value[]) => toStringValue(args[0]),
  ternary: ([yes, no, condition]) => (truth(condition) ? yes : no),
  dict: (args) => {
    if (args.length % 2 !== 0) throw new TemplateError('dict needs key/value pairs');
    const out: Record<string, Value> = {};
    for (let i = 0; i < args.length; i += 2) out[toStringValue(args[i])] = args[i + 1];
    return out;
  },
  list: (args) => [...args],
  set: ([d, key, value]) => {
    if (!isMap(d)) throw new TemplateError(`set on a ${kindOf(d)}`);
    d[toStringValue(key)] = value;
    return d;
  },
  hasKey: ([d, key]) => isMap(d) && Object.prototype.hasOwnProperty.call(d, toStringValue(key)),
  omit: ([d, ...keys]) => {
    if (!isMap(d)) throw new TemplateError(`omit on a ${kindOf(d)}`);
    const drop = new Set(keys.map(toStringValue));
    return Object.fromEntries(Object.entries(d).filter(([k]) => !drop.has(k)));
  },
  deepCopy: ([a]) => deepCopy(a),
  // sprig's merge (mergo without override): keys of the sources fill what the destination lacks.
  merge: ([dst, ...sources]) => {
    if (!isMap(dst)) throw new TemplateError(`merge into a ${kindOf(dst)}`);
    const fill = (into: Record<string, Value>, from: Value): void => {
      if (!isMap(from)) return;
      for (const [k, v] of Object.entries(from)) {
        if (kindOf(into[k]) === 'nil') into[k] = v;
        else if (isMap(into[k]) && isMap(v)) fill(into[k], v);
      }
    };
    for (const source of sources) fill(dst, source);
    return dst;
  },
  index: ([collection, ...keys]) => {
    let value = collection;
    for (const key of keys) {
      if (Array.isArray(value)) {
        const i = toInt(key);
        if (i < 0 || i >= value.length) throw new TemplateError(`index out of range: ${i}`);
        value = value[i];
      } else if (isMap(value)) value = value[toStringValue(key)];
      else throw new TemplateError(`can't index item of type ${kindOf(value)}`);
    }
    return value;
  },
  has: ([needle, haystack]) => Array.isArray(haystack) && haystack.some((x) => kindOf(x) === kindOf(needle) && compare('eq', x, needle)),
  join: ([sep, items]) => (Array.isArray(items) ? items.map(toStringValue).join(toStringValue(sep)) : toStringValue(items)),
  keys: (maps) => maps.flatMap((m) => (isMap(m) ? Object.keys(m) : [])),
  sortAlpha: ([items]) => (Array.isArray(items) ? items.map(toStringValue).sort() : []),
  kindIs: ([kind, a]) => {
    const k = kindOf(a);
    const goKind: Record<Kind, string> = { nil: 'invalid', bool: 'bool', int: 'int', float: 'float64', string: 'string', list: 'slice', map: 'map', func: 'func' };
    return goKind[k] === kind;
  },
};

const SPECIAL = new Set(['and', 'or', 'include']);
const FUNCTION_NAMES = new Set([...Object.keys(FUNCTIONS), ...SPECIAL]);

class Scope {
  readonly vars: Array<Map<string, Value>>;
  constructor(root: Value) {
    this.vars = [new Map([['$', root]])];
  }
  push(): void {
    this.vars.push(new Map());
  }
  pop(): void {
    this.vars.pop();
  }
  get(name: string, where: string): Value {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.has(name)) return this.vars[i]!.get(name);
    throw new TemplateError(`${where}: undefined variable "${name}"`);
  }
  declare(name: string, value: Value): void {
    this.vars.at(-1)!.set(name, value);
  }
  assign(name: string, value: Value, where: string): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.has(name)) {
        this.vars[i]!.set(name, value);
        return;
      }
    }
    throw new TemplateError(`${where}: undefined variable "${name}"`);
  }
}

class Executor {
  constructor(
    private readonly defines: ReadonlyMap<string, Node[]>,
    private readonly templateName: string,
  ) {}

  run(nodes: Node[], dot: Value, scope: Scope, depth = 0): string {
    if (depth > 100) throw new TemplateError(`${this.templateName}: template recursion too deep`);
    let out = '';
    for (const node of nodes) {
      switch (node.k) {
        case 'text':
          out += node.v;
          break;
        case 'action': {
          const value = this.pipeline(node.pipe, dot, scope);
          if (node.pipe.decl.length === 0) out += printValue(value, this.templateName);
          break;
        }
        case 'if':
        case 'with': {
          scope.push();
          const value = this.pipeline(node.pipe, dot, scope);
          if (truth(value)) out += this.run(node.then, node.k === 'with' ? value : dot, scope, depth);
          else out += this.run(node.else, dot, scope, depth);
          scope.pop();
          break;
        }
        case 'range': {
          scope.push();
          const decl = node.pipe.decl;
          const value = this.pipeline({ ...node.pipe, decl: [] }, dot, scope);
          const entries: Array<[Value, Value]> = Array.isArray(value)
            ? value.map((v, i) => [i, v])
            : isMap(value)
              ? Object.keys(value).sort().map((k) => [k, value[k]])
              : kindOf(value) === 'nil'
                ? []
                : (() => {
                    throw new TemplateError(`${this.templateName}: range over a ${kindOf(value)}`);
                  })();
          if (entries.length === 0) out += this.run(node.else, dot, scope, depth);
          for (const [key, item] of entries) {
            scope.push();
            if (decl.length === 1) scope.declare(decl[0]!, item);
            if (decl.length === 2) {
              scope.declare(decl[0]!, key);
              scope.declare(decl[1]!, item);
            }
            out += this.run(node.then, item, scope, depth);
            scope.pop();
          }
          scope.pop();
          break;
        }
        case 'template':
          out += this.include(node.name, node.pipe ? this.pipeline(node.pipe, dot, scope) : null, depth);
          break;
      }
    }
    return out;
  }

  include(name: string, data: Value, depth: number): string {
    const body = this.defines.get(name);
    if (!body) throw new TemplateError(`${this.templateName}: no template "${name}"`);
    return this.run(body, data, new Scope(data), depth + 1);
  }

  pipeline(pipe: Pipeline, dot: Value, scope: Scope): Value {
    let value: Value;
    let piped = false;
    for (const cmd of pipe.cmds) {
      value = this.command(cmd, dot, scope, piped ? [value] : []);
      piped = true;
    }
    for (const name of pipe.decl) {
      if (pipe.assign) scope.assign(name, value, this.templateName);
      else scope.declare(name, value);
    }
    return value;
  }

  command(cmd: Command, dot: Value, scope: Scope, piped: Value[]): Value {
    const head = cmd.args[0]!;
    const rest = cmd.args.slice(1);
    if (head.k === 'fn') {
      const name = head.name;
      if (name === 'and' || name === 'or') {
        const thunks = [...rest.map((a) => () => this.operand(a, dot, scope)), ...piped.map((p) => () => p)];
        let last: Value;
        for (const thunk of thunks) {
          last = thunk();
          if (name === 'and' ? !truth(last) : truth(last)) return last;
        }
        return last;
      }
      const args = [...rest.map((a) => this.operand(a, dot, scope)), ...piped];
      if (name === 'include') return this.include(toStringValue(args[0]), args[1], 0);
      return FUNCTIONS[name]!(args);
    }
    const value = this.operand(head, dot, scope);
    if (typeof value === 'function') {
      return (value as (...a: Value[]) => Value)(...rest.map((a) => this.operand(a, dot, scope)), ...piped);
    }
    if (rest.length > 0 || piped.length > 0) throw new TemplateError(`${this.templateName}: can't give arguments to a non-function ${JSON.stringify(plain(value))}`);
    return value;
  }

  operand(op: Operand, dot: Value, scope: Scope): Value {
    switch (op.k) {
      case 'lit':
        return op.v;
      case 'var':
        return scope.get(op.name, this.templateName);
      case 'pipe':
        return this.pipeline(op.pipe, dot, scope);
      case 'fn':
        return FUNCTIONS[op.name]!([]);
      case 'field': {
        let value = op.on === null ? dot : this.operand(op.on, dot, scope);
        for (const name of op.names) {
          if (kindOf(value) === 'nil') throw new TemplateError(`${this.templateName}: nil pointer evaluating interface {}.${name}`);
          if (!isMap(value)) throw new TemplateError(`${this.templateName}: can't evaluate field ${name} in type ${kindOf(value)}`);
          value = value[name];
        }
        return value;
      }
    }
  }
}

// ---- charts ------------------------------------------------------------------------------------

/** Helm's coalescing of user values over the chart's: maps merge, anything else replaces, null deletes. */
export function mergeValues(base: Value, override: Value): Value {
  if (!isMap(base) || !isMap(override)) return deepCopy(override);
  const out = deepCopy(base) as Record<string, Value>;
  for (const [key, value] of Object.entries(override)) {
    if (value === null) delete out[key];
    else out[key] = key in out ? mergeValues(out[key], value) : deepCopy(value);
  }
  return out;
}

export interface RenderOptions {
  readonly releaseName?: string;
  readonly namespace?: string;
  /** User values (as parsed YAML), merged over values.yaml. */
  readonly values?: unknown;
}

export interface Rendered {
  /** Template path (countersign/templates/x.yaml) → its rendered text, for the files that render to something. */
  readonly files: Map<string, string>;
  /** Every YAML document of every manifest, parsed. */
  readonly objects: Array<Record<string, unknown> & { kind: string; metadata: { name: string; [k: string]: unknown } }>;
  readonly notes: string;
  readonly values: Value;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

export function renderChart(chartDir: string, options: RenderOptions = {}): Rendered {
  const chartYaml = parseYaml(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
  const chartName = String(chartYaml.name);
  const defaults = fromYamlValues(parseYaml(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) ?? {});
  const values = options.values === undefined ? defaults : mergeValues(defaults, fromYamlValues(options.values));
  const capitalized = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k.charAt(0).toUpperCase() + k.slice(1), v]));

  const templatesDir = join(chartDir, 'templates');
  const files = walk(templatesDir).filter((f) => /\.(ya?ml|tpl|txt)$/.test(f)).sort();
  const defines = new Map<string, Node[]>();
  const parsed = new Map<string, ParsedFile>();
  for (const file of files) {
    const name = `${chartName}/templates/${relative(templatesDir, file)}`;
    const result = parseTemplate(readFileSync(file, 'utf8'), name, FUNCTION_NAMES);
    parsed.set(name, result);
    for (const [define, body] of result.defines) defines.set(define, body);
  }
  // Each template file is also a template named by its path (include (print $.Template.BasePath "/x.yaml") .).
  for (const [name, file] of parsed) defines.set(name, file.body);

  const root = (templateName: string): Record<string, Value> => ({
    Values: values,
    Release: { Name: options.releaseName ?? 'countersign', Namespace: options.namespace ?? 'default', Service: 'Helm', IsInstall: true, IsUpgrade: false, Revision: 1 },
    Chart: capitalized(chartYaml),
    Template: { Name: templateName, BasePath: `${chartName}/templates` },
    Files: {
      Get: (path: Value) => {
        const file = join(chartDir, toStringValue(path));
        if (!existsSync(file)) throw new TemplateError(`${templateName}: .Files.Get ${String(path)}: no such file in the chart`);
        return readFileSync(file, 'utf8');
      },
    },
  });

  const rendered = new Map<string, string>();
  const objects: Rendered['objects'] = [];
  let notes = '';
  for (const [name, file] of parsed) {
    const base = name.split('/').at(-1)!;
    if (base.startsWith('_')) continue;
    const data = root(name);
    let text: string;
    try {
      text = new Executor(defines, name).run(file.body, data, new Scope(data));
    } catch (err) {
      throw new Error(`${name}: ${(err as Error).message}`, { cause: err });
    }
    if (base === 'NOTES.txt') {
      notes = text;
      continue;
    }
    if (text.trim() === '') continue;
    rendered.set(name, text);
    for (const doc of parseAllDocuments(text, { uniqueKeys: true })) {
      if (Array.isArray(doc) || doc.errors.length > 0) {
        const errors = Array.isArray(doc) ? [] : doc.errors;
        throw new Error(`${name} renders invalid YAML: ${errors.map((e) => e.message).join('; ')}\n${text}`);
      }
      const object = doc.toJS() as Rendered['objects'][number] | null;
      if (object === null) continue;
      objects.push(object);
    }
  }
  return { files: rendered, objects, notes, values };
}

/** Renders one template text with `.Values` (numbers as float64, as from values.yaml); for the renderer's own tests. */
export function renderString(template: string, values: unknown = {}, defines = ''): string {
  const parsedDefines = parseTemplate(defines, 'defines.tpl', FUNCTION_NAMES);
  const file = parseTemplate(template, 'test.tpl', FUNCTION_NAMES);
  const all = new Map([...parsedDefines.defines, ...file.defines]);
  const data = { Values: fromYamlValues(values) };
  return new Executor(all, 'test.tpl').run(file.body, data, new Scope(data));
}
