import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { CountersignError } from '../errors.js';
import { compilePolicy, PolicyError, type RawPolicy } from '../policy/compile.js';
import { expandEnv, MissingEnvError } from './env.js';
import type { Config, KeysSource, LogLevel, TrustConfig, UpstreamConfig } from './types.js';
import { parseDuration, parseSize } from './units.js';
import { isHttpUrl, validateAgainstSchema, type ConfigProblem } from './validate.js';

/** The package's own config/default.yaml, used when nothing else is named. */
export const DEFAULT_CONFIG_PATH = fileURLToPath(new URL('../../../config/default.yaml', import.meta.url));

export interface LoadOptions {
  /** `--config FILE`; wins over COUNTERSIGN_CONFIG. */
  readonly file?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

type Path = Array<string | number>;

function formatPath(path: ReadonlyArray<string | number>): string {
  return path.reduce<string>((text, key) => (typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${key}` : key), '') || '(top level)';
}

function locate(doc: Document, lines: LineCounter, path: ReadonlyArray<string | number>): string {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true) as { range?: [number, number, number] } | undefined;
    if (node?.range) {
      const pos = lines.linePos(node.range[0]);
      return `${pos.line}:${pos.col}`;
    }
  }
  return '1:1';
}

function configError(file: string, problems: Array<ConfigProblem & { where?: string | undefined }>): CountersignError {
  const lines = problems.map((p) => `  ${p.where ? `line ${p.where} ` : ''}${formatPath(p.path)}: ${p.message}`);
  return new CountersignError('ECS_CONFIG_INVALID', `invalid config ${file}:\n${lines.join('\n')}`, {
    details: { file, problems: problems.map((p) => ({ path: formatPath(p.path), message: p.message })) },
  });
}

/** Expands `${VAR}` in every string of the document, collecting the names it could not find. */
function expandStrings(node: unknown, env: NodeJS.ProcessEnv, path: Path, problems: ConfigProblem[]): unknown {
  if (typeof node === 'string') {
    try {
      return expandEnv(node, env);
    } catch (err) {
      if (err instanceof MissingEnvError) {
        problems.push({ path, message: err.message });
        return node;
      }
      throw err;
    }
  }
  if (Array.isArray(node)) return node.map((item, i) => expandStrings(item, env, [...path, i], problems));
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      Object.defineProperty(out, key, { value: expandStrings(value, env, [...path, key], problems), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return node;
}

const ENV_OVERRIDES: ReadonlyArray<{ variable: string; path: [string, string]; parse: (text: string) => unknown; expected: string }> = [
  { variable: 'COUNTERSIGN_HOST', path: ['server', 'host'], parse: (t) => t, expected: 'a host name or address' },
  {
    variable: 'COUNTERSIGN_PORT',
    path: ['server', 'port'],
    parse: (t) => (/^\d{1,5}$/.test(t) && Number(t) <= 65535 ? Number(t) : undefined),
    expected: 'an integer from 0 to 65535',
  },
  { variable: 'COUNTERSIGN_DATA_DIR', path: ['server', 'dataDir'], parse: (t) => t, expected: 'a directory path' },
  { variable: 'COUNTERSIGN_PUBLIC_URL', path: ['server', 'publicUrl'], parse: (t) => (isHttpUrl(t) ? t : undefined), expected: 'an http(s) URL like https://countersign.example.com/' },
  {
    variable: 'COUNTERSIGN_LOG_LEVEL',
    path: ['log', 'level'],
    parse: (t) => (['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(t) ? t : undefined),
    expected: 'one of fatal, error, warn, info, debug, trace, silent',
  },
];

function applyEnvOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const { variable, path, parse, expected } of ENV_OVERRIDES) {
    const text = env[variable];
    if (text === undefined || text === '') continue;
    const value = parse(text);
    if (value === undefined) {
      problems.push({ path: [variable], message: `expected ${expected} (got ${JSON.stringify(text)})` });
      continue;
    }
    const [section, key] = path;
    const current = raw[section];
    const target = current !== null && typeof current === 'object' && !Array.isArray(current) ? (current as Record<string, unknown>) : {};
    target[key] = value;
    raw[section] = target;
  }
  return problems;
}

function keysSource(text: string | undefined, configDir: string): KeysSource {
  switch (text ?? 'auto') {
    case 'auto':
      return { kind: 'auto' };
    case 'upstream':
      return { kind: 'upstream' };
    case 'tuf':
      return { kind: 'tuf' };
    case 'none':
      return { kind: 'none' };
    default:
      return { kind: 'file', path: resolve(configDir, text!) };
  }
}

interface RawUpstream {
  url: string;
  keys?: string;
  token?: string;
  connections?: number;
  timeouts?: { connect?: string | number; headers?: string | number; bodyIdle?: string | number };
}

function resolveUpstream(name: string, raw: RawUpstream, configDir: string): UpstreamConfig {
  const url = new URL(raw.url);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return {
    name,
    url: url.href,
    origin: url.origin,
    keys: keysSource(raw.keys, configDir),
    token: raw.token === '' ? undefined : raw.token,
    connections: raw.connections ?? 32,
    connectTimeoutMs: parseDuration(raw.timeouts?.connect ?? '10s'),
    headersTimeoutMs: parseDuration(raw.timeouts?.headers ?? '30s'),
    bodyIdleTimeoutMs: parseDuration(raw.timeouts?.bodyIdle ?? '30s'),
  };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    if (value instanceof Map) {
      for (const v of value.values()) deepFreeze(v);
    } else {
      for (const v of Object.values(value)) deepFreeze(v);
    }
  }
  return value;
}

interface RawConfig extends RawPolicy {
  server?: {
    host?: string;
    port?: number;
    publicUrl?: string | null;
    trustProxy?: boolean;
    dataDir?: string;
    shutdownGrace?: string | number;
    maxRequestBody?: string | number;
    requestTimeout?: string | number;
  };
  log?: { level?: LogLevel };
  upstreams: Record<string, RawUpstream>;
  packuments?: { maxAge?: string | number; staleIfError?: string | number; memoryCache?: string | number; maxSize?: string | number; clientMaxAge?: string | number };
  tarballs?: { maxSize?: string | number; memoryCache?: string | number; diskCache?: string | number; verifyBeforeSendBelow?: string | number };
  trust?: RawTrust;
}

interface RawTrust {
  maxKeyValidity?: string | number;
  maxExemption?: string | number;
  maxDocumentSize?: string | number;
  maxEntries?: number;
  submissionsPerMinute?: number;
}

/** The trust store's limits, with their defaults (also used by CLI commands run without a config). */
export function resolveTrust(raw: RawTrust = {}): TrustConfig {
  return {
    maxKeyValidityMs: parseDuration(raw.maxKeyValidity ?? '180d'),
    maxExemptionMs: parseDuration(raw.maxExemption ?? '365d'),
    maxDocumentBytes: parseSize(raw.maxDocumentSize ?? '64KB'),
    maxEntries: raw.maxEntries ?? 1_000_000,
    submissionsPerMinute: raw.submissionsPerMinute ?? 60,
  };
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/** Turns YAML text into a Config, or throws ECS_CONFIG_INVALID listing every problem with its line. */
export function parseConfig(text: string, file: string, options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    // After the first syntax error the parser's later complaints are mostly echoes of it.
    throw configError(file, doc.errors.slice(0, 3).map((e) => ({
      path: [],
      message: e.message.split('\n')[0] ?? e.message,
      where: e.linePos ? `${e.linePos[0].line}:${e.linePos[0].col}` : undefined,
    })));
  }
  const envProblems: ConfigProblem[] = [];
  const expanded = expandStrings(doc.toJS({ maxAliasCount: 100 }) ?? {}, env, [], envProblems);
  if (expanded === null || typeof expanded !== 'object' || Array.isArray(expanded)) {
    throw configError(file, [{ path: [], message: 'expected a mapping with upstreams and rules' }]);
  }
  const data = expanded as Record<string, unknown>;
  envProblems.push(...applyEnvOverrides(data, env));
  const problems = [...envProblems, ...validateAgainstSchema(data)];
  if (problems.length > 0) {
    throw configError(file, problems.map((p) => (typeof p.path[0] === 'string' && p.path[0].startsWith('COUNTERSIGN_') ? p : { ...p, where: locate(doc, lines, p.path) })));
  }

  const raw = data as unknown as RawConfig;
  const configDir = dirname(resolve(cwd, file));
  const upstreams = new Map(Object.entries(raw.upstreams).map(([name, u]) => [name, resolveUpstream(name, u, configDir)]));
  let policy;
  try {
    policy = compilePolicy(raw, [...upstreams.keys()]);
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    const path = err.path.split(/[.[\]]+/).filter(Boolean).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    throw configError(file, [{ path, message: err.message, where: locate(doc, lines, path) }]);
  }

  const s = raw.server ?? {};
  const p = raw.packuments ?? {};
  const t = raw.tarballs ?? {};
  const config: Config = {
    source: file,
    server: {
      host: s.host ?? '0.0.0.0',
      port: s.port ?? 4874,
      publicUrl: s.publicUrl ? withSlash(s.publicUrl) : undefined,
      trustProxy: s.trustProxy ?? false,
      dataDir: resolve(cwd, s.dataDir ?? './data'),
      shutdownGraceMs: parseDuration(s.shutdownGrace ?? '10s'),
      maxRequestBodyBytes: parseSize(s.maxRequestBody ?? '10MB'),
      requestTimeoutMs: parseDuration(s.requestTimeout ?? '5m'),
    },
    log: { level: raw.log?.level ?? 'info' },
    upstreams,
    policy,
    packuments: {
      maxAgeMs: parseDuration(p.maxAge ?? '5m'),
      staleIfErrorMs: parseDuration(p.staleIfError ?? '7d'),
      memoryCacheBytes: parseSize(p.memoryCache ?? '128MB'),
      maxSizeBytes: parseSize(p.maxSize ?? '64MB'),
      clientMaxAgeMs: parseDuration(p.clientMaxAge ?? 0),
    },
    tarballs: {
      maxSizeBytes: parseSize(t.maxSize ?? '256MB'),
      memoryCacheBytes: parseSize(t.memoryCache ?? '64MB'),
      diskCacheBytes: parseSize(t.diskCache ?? '10GB'),
      verifyBeforeSendBelowBytes: parseSize(t.verifyBeforeSendBelow ?? '1MB'),
    },
    trust: resolveTrust(raw.trust),
  };
  return deepFreeze(config);
}

/** Reads and parses the config named by `--config`, COUNTERSIGN_CONFIG, or the shipped default. */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const file = options.file ?? (env.COUNTERSIGN_CONFIG || undefined) ?? DEFAULT_CONFIG_PATH;
  let text: string;
  try {
    text = readFileSync(resolve(cwd, file), 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new CountersignError('ECS_CONFIG_NOT_FOUND', `cannot read config ${file}: ${reason} (pass --config FILE or set COUNTERSIGN_CONFIG)`, { cause: err });
  }
  return parseConfig(text, file, { env, cwd });
}
