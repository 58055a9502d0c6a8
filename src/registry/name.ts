import semver from 'semver';
import { CountersignError } from '../errors.js';

/** npm's limit on the length of a package name, scope included. */
export const MAX_NAME_LENGTH = 214;
/** Versions longer than this are refused outright (semver has no limit; npm's registry uses 256). */
export const MAX_VERSION_LENGTH = 256;

// Legacy names may hold capitals; nothing may start with `.` or `_`, and only URL-safe characters
// are allowed, so a valid name is also a valid path segment and a valid file-name component.
const PART = '[A-Za-z0-9~-][A-Za-z0-9._~-]*';
const NAME_RE = new RegExp(`^(?:@(${PART})/)?(${PART})$`);

export interface NameParts {
  readonly scope: string | undefined;
  readonly unscoped: string;
}

/** Returns the parts of a valid npm package name, or undefined. */
export function parsePackageName(name: string): NameParts | undefined {
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) return undefined;
  const m = NAME_RE.exec(name);
  if (!m) return undefined;
  const unscoped = m[2]!;
  if (unscoped === 'node_modules' || unscoped === 'favicon.ico') return undefined;
  return { scope: m[1], unscoped };
}

/** Throws ECS_BAD_NAME with a reason a person can act on. */
export function assertPackageName(name: string): NameParts {
  const parts = parsePackageName(name);
  if (parts) return parts;
  const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
  const why = name.length > MAX_NAME_LENGTH
    ? `it is longer than ${MAX_NAME_LENGTH} characters`
    : 'npm names are `name` or `@scope/name` with letters, digits and `-._~`, not starting with `.` or `_`';
  throw new CountersignError('ECS_BAD_NAME', `invalid package name ${shown}: ${why}`);
}

/**
 * `major.minor.patch` of at most 15 digits each, without leading zeros, then an optional
 * prerelease (dot-separated identifiers: a number without leading zeros, or letters, digits and
 * `-` with at least one non-digit): canonical semver with every number below
 * Number.MAX_SAFE_INTEGER and no build metadata, which is exactly what `semver.valid(v) === v`
 * accepts within these bounds. Nearly every version is this; semver's parser is ~5× slower and
 * runs for the rest (3,478 versions per cold typescript packument, 95% of them prereleases).
 */
const CANONICAL_VERSION_RE = /^(?:0|[1-9]\d{0,14})\.(?:0|[1-9]\d{0,14})\.(?:0|[1-9]\d{0,14})(?:-(?:0|[1-9]\d*|\d*[A-Za-z-][A-Za-z0-9-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][A-Za-z0-9-]*))*)?$/;

/** True for an exact semver version that is safe to put in a URL or a file name. */
export function isValidVersion(version: string): boolean {
  return version.length <= MAX_VERSION_LENGTH && (CANONICAL_VERSION_RE.test(version) || semver.valid(version) === version);
}

/** The canonical tarball file name that countersign serves: `<unscoped>-<version>.tgz`. */
export function tarballFileName(name: string, version: string): string {
  const parts = assertPackageName(name);
  return `${parts.unscoped}-${version}.tgz`;
}

/**
 * Maps a tarball file name back to the version it holds. The file must be `<unscoped>-<version>.tgz`
 * for the package in the URL; anything else is ECS_TARBALL_NAME_MISMATCH.
 */
export function versionFromTarballFile(name: string, file: string): string {
  const { unscoped } = assertPackageName(name);
  const prefix = `${unscoped}-`;
  if (file.startsWith(prefix) && file.endsWith('.tgz')) {
    const version = file.slice(prefix.length, -'.tgz'.length);
    if (isValidVersion(version)) return version;
  }
  throw new CountersignError(
    'ECS_TARBALL_NAME_MISMATCH',
    `tarball ${JSON.stringify(file.slice(0, 120))} does not belong to ${name}: expected ${prefix}<version>.tgz`,
  );
}
