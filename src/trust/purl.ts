import { isValidVersion, parsePackageName } from '../registry/name.js';

/** `pkg:npm/%40acme/widget@1.2.3`: the package URL of an npm version (the in-toto subject name). */
export function npmPurl(name: string, version: string): string {
  const parts = parsePackageName(name);
  if (!parts) throw new RangeError(`not an npm package name: ${JSON.stringify(name)}`);
  const ns = parts.scope === undefined ? '' : `%40${encodeURIComponent(parts.scope)}/`;
  return `pkg:npm/${ns}${encodeURIComponent(parts.unscoped)}@${encodeURIComponent(version)}`;
}

const PURL_RE = /^pkg:npm\/(?:%40([^/@]+)\/)?([^/@]+)@([^/@?#]+)$/;

function decode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

/** Name and version of a canonical npm purl (exactly as `npmPurl` writes it), or undefined. */
export function parseNpmPurl(purl: string): { name: string; version: string } | undefined {
  const m = PURL_RE.exec(purl);
  if (!m) return undefined;
  const scope = m[1] === undefined ? undefined : decode(m[1]);
  const unscoped = decode(m[2]!);
  const version = decode(m[3]!);
  if (unscoped === undefined || version === undefined || (m[1] !== undefined && scope === undefined)) return undefined;
  const name = scope === undefined ? unscoped : `@${scope}/${unscoped}`;
  if (!parsePackageName(name) || !isValidVersion(version)) return undefined;
  return npmPurl(name, version) === purl ? { name, version } : undefined;
}
