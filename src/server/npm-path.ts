import { CountersignError } from '../errors.js';
import { assertPackageName } from '../registry/name.js';

/**
 * What a request path addresses, in npm's URL grammar. Both `/@scope%2fname` and `/@scope/name`
 * name a scoped package; nothing else may contain an encoded slash.
 */
export type NpmPath =
  | { readonly kind: 'root' }
  /** `/-/…`: registry-wide endpoints (ping, search, audit, our API). `path` is the raw path. */
  | { readonly kind: 'special'; readonly path: string }
  | { readonly kind: 'packument'; readonly name: string }
  /** `/name/1.2.3` or `/name/latest`. */
  | { readonly kind: 'manifest'; readonly name: string; readonly spec: string }
  | { readonly kind: 'tarball'; readonly name: string; readonly file: string }
  /** Anything deeper under a package (`/name/-rev/…` for unpublish); only fast scopes accept it. */
  | { readonly kind: 'package-other'; readonly name: string };

const MAX_PATH = 2048;
const CONTROL = /[\u0000-\u001f\u007f]/;

function bad(message: string): CountersignError {
  return new CountersignError('ECS_BAD_PATH', message);
}

function decodeSegment(segment: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    throw bad('the URL has a malformed %-escape');
  }
  if (CONTROL.test(decoded)) throw bad('the URL has control characters');
  if (decoded === '.' || decoded === '..') throw bad('the URL has "." or ".." segments');
  if (decoded.includes('\\')) throw bad('the URL has a backslash');
  return decoded;
}

/** Paths parsed recently: a registry sees the same few thousand paths over and over. */
const recent = new Map<string, NpmPath>();
const MAX_RECENT = 4096;

/** Splits the path part of a request URL (no query). Throws ECS_BAD_PATH / ECS_BAD_NAME. */
export function parseNpmPath(rawPath: string): NpmPath {
  const known = recent.get(rawPath);
  if (known !== undefined) return known;
  const parsed = parseUncached(rawPath);
  // Only well-formed paths get here (the others threw); a flood of distinct ones just restarts the map.
  if (recent.size >= MAX_RECENT) recent.clear();
  recent.set(rawPath, parsed);
  return parsed;
}

function parseUncached(rawPath: string): NpmPath {
  if (rawPath.length > MAX_PATH) throw bad(`the URL is longer than ${MAX_PATH} characters`);
  if (!rawPath.startsWith('/')) throw bad('the URL path must start with "/"');
  if (rawPath === '/') return { kind: 'root' };
  if (rawPath.startsWith('/-/')) {
    for (const segment of rawPath.slice(1).split('/')) decodeSegment(segment);
    return { kind: 'special', path: rawPath };
  }
  const segments = rawPath.slice(1).split('/');
  if (segments.some((s) => s === '')) throw bad('the URL has an empty segment ("//" or a trailing "/")');
  const decoded = segments.map(decodeSegment);

  let name: string;
  let rest: string[];
  const first = decoded[0]!;
  if (first.startsWith('@') && !first.includes('/')) {
    // `/@scope/name/...`
    if (decoded.length < 2) throw new CountersignError('ECS_BAD_NAME', `"${first}" is a scope, not a package: use /${first}/<name>`);
    name = `${first}/${decoded[1]!}`;
    rest = decoded.slice(2);
  } else {
    // `/name/...` or `/@scope%2fname/...`
    name = first;
    rest = decoded.slice(1);
  }
  assertPackageName(name);

  if (rest.length === 0) return { kind: 'packument', name };
  if (rest.some((s) => s.includes('/'))) throw bad('an encoded "/" is only allowed between a scope and a name');
  if (rest.length === 1) return { kind: 'manifest', name, spec: rest[0]! };
  if (rest.length === 2 && rest[0] === '-') return { kind: 'tarball', name, file: rest[1]! };
  return { kind: 'package-other', name };
}
