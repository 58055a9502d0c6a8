/**
 * The served forms of a packument read by scan.ts, made from the upstream's own bytes, so that a
 * client's `JSON.parse` of them gives what `renderPackument(prepareRender(parsePackument(…)))`
 * gives. The full form: the hidden versions and their `time` entries cut out, each
 * `dist.tarball` replaced by countersign's URL, `dist-tags` replaced by the repointed tags,
 * `_attachments` left out, everything else as the upstream wrote it (the top-level members in
 * the upstream's order). The abbreviated form: abbreviated.ts's fields of each manifest, in its
 * order and with its rules, each value copied as written. Pure.
 */
import { hasInstallScript } from './abbreviated.js';
import { TIME_META_KEYS } from './parse.js';
import type { TarballUrl } from './render.js';
import { stringMapJson } from './render.js';
import { MANIFEST_FIELDS, type ScannedPackument, type ScannedVersion } from './scan.js';

const COMMA = Buffer.from(',');
const OPEN = Buffer.from('{');
const CLOSE = Buffer.from('}');
const VERSIONS_OPEN = Buffer.from('"versions":{');
const TIME_OPEN = Buffer.from('"time":{');
/** `"<field>":` for each of MANIFEST_FIELDS. */
const FIELD_KEYS = MANIFEST_FIELDS.map((field) => Buffer.from(`${JSON.stringify(field)}:`));
const FIELD_INDEX = new Map(MANIFEST_FIELDS.map((field, k) => [field, k]));
const TRUE = Buffer.from('true');
const INSTALL = Buffer.from('install');

export interface SplicedPackument {
  readonly body: Buffer;
  /** Where each served manifest is in `body` (`[start, end)`). */
  readonly manifestRanges: ReadonlyMap<string, readonly [number, number]>;
}

/**
 * The full form with only the `served` versions (which must be versions of `scanned`), the
 * dist-tags `tags` (already repointed over them) and tarball URLs from `tarballUrl`.
 */
export function spliceFullForm(scanned: ScannedPackument, served: ReadonlySet<string>, tags: ReadonlyMap<string, string>, tarballUrl: TarballUrl): SplicedPackument {
  const { body } = scanned;
  const parts = new Parts();
  parts.push(OPEN);
  const manifestRanges = new Map<string, readonly [number, number]>();
  let firstMember = true;
  for (const member of scanned.members) {
    if (member.key === '_attachments') continue;
    if (!firstMember) parts.push(COMMA);
    firstMember = false;
    if (member.key === 'dist-tags') parts.push(Buffer.from(`"dist-tags":${stringMapJson(tags)}`, 'utf8'));
    else if (member.key === 'versions') pushVersions(parts, scanned, served, tarballUrl, manifestRanges);
    else if (member.key === 'time') pushTime(parts, scanned, served);
    else parts.push(body.subarray(member.start, member.end));
  }
  parts.push(CLOSE);
  return { body: parts.concat(), manifestRanges };
}

/** Pieces of a document to be joined, and their length so far. */
class Parts {
  readonly #parts: Buffer[] = [];
  length = 0;

  push(part: Buffer): void {
    this.#parts.push(part);
    this.length += part.length;
  }

  concat(): Buffer {
    return Buffer.concat(this.#parts, this.length);
  }
}

// The two loops of the full form, each run once per version, in functions of their own: V8 then
// compiles them alone rather than spliceFullForm whole for every large packument.

/** `"versions":{…}` with the served manifests, their tarball URLs replaced; their ranges into `ranges`. */
function pushVersions(parts: Parts, scanned: ScannedPackument, served: ReadonlySet<string>, tarballUrl: TarballUrl, ranges: Map<string, readonly [number, number]>): void {
  const { body } = scanned;
  parts.push(VERSIONS_OPEN);
  let first = true;
  for (const [version, at] of scanned.versions) {
    if (!served.has(version)) continue;
    if (!first) parts.push(COMMA);
    first = false;
    const manifestStart = parts.length + at.start - at.keyStart;
    parts.push(body.subarray(at.keyStart, at.tarballStart));
    parts.push(tarballToken(scanned, version, tarballUrl));
    parts.push(body.subarray(at.tarballEnd, at.end));
    ranges.set(version, [manifestStart, parts.length]);
  }
  parts.push(CLOSE);
}

/** `"time":{…}` with the string entries of the served versions and of the package. */
function pushTime(parts: Parts, scanned: ScannedPackument, served: ReadonlySet<string>): void {
  parts.push(TIME_OPEN);
  let first = true;
  for (const entry of scanned.time) {
    if (entry.value === undefined || !(TIME_META_KEYS.has(entry.key) || served.has(entry.key))) continue;
    if (!first) parts.push(COMMA);
    first = false;
    parts.push(scanned.body.subarray(entry.start, entry.end));
  }
  parts.push(CLOSE);
}

/** The abbreviated form with only the `served` versions and the dist-tags `tags`. */
export function spliceAbbreviatedForm(scanned: ScannedPackument, served: ReadonlySet<string>, tags: ReadonlyMap<string, string>, tarballUrl: TarballUrl): Buffer {
  const { body } = scanned;
  const parts: Buffer[] = [Buffer.from(`{"name":${JSON.stringify(scanned.name)},"dist-tags":${stringMapJson(tags)},"versions":{`, 'utf8')];
  let first = true;
  for (const [version, at] of scanned.versions) {
    if (!served.has(version)) continue;
    if (!first) parts.push(COMMA);
    first = false;
    parts.push(body.subarray(at.keyStart, at.start), OPEN);
    abbreviatedMembers(scanned, version, at, tarballUrl, parts);
    parts.push(CLOSE);
  }
  parts.push(CLOSE);
  const modified = scanned.time.find((entry) => entry.key === 'modified' && entry.value !== undefined);
  if (modified !== undefined) parts.push(COMMA, body.subarray(modified.start, modified.end));
  parts.push(CLOSE);
  return Buffer.concat(parts);
}

/** abbreviateManifest's members of one manifest, from its bytes, pushed onto `parts`. */
function abbreviatedMembers(scanned: ScannedPackument, version: string, at: ScannedVersion, tarballUrl: TarballUrl, parts: Buffer[]): void {
  const { body } = scanned;
  const { fields } = at;
  const value = (field: string): Buffer | undefined => {
    const k = FIELD_INDEX.get(field)!;
    return fields[2 * k + 1] === 0 ? undefined : body.subarray(fields[2 * k], fields[2 * k + 1]);
  };
  let first = true;
  const push = (k: number, ...pieces: Buffer[]) => {
    if (!first) parts.push(COMMA);
    first = false;
    parts.push(FIELD_KEYS[k]!, ...pieces);
  };
  for (let k = 0; k < MANIFEST_FIELDS.length; k++) {
    const field = MANIFEST_FIELDS[k]!;
    if (field === 'scripts') continue;
    if (field === 'hasInstallScript') {
      if (installScript(value('hasInstallScript'), value('scripts'))) push(k, TRUE);
      continue;
    }
    const raw = value(field);
    if (raw === undefined) continue;
    if (field === 'dist') {
      push(k, body.subarray(at.fields[2 * k]!, at.tarballStart), tarballToken(scanned, version, tarballUrl), body.subarray(at.tarballEnd, at.fields[2 * k + 1]!));
    } else if (field === '_hasShrinkwrap') {
      if (raw.equals(TRUE)) push(k, TRUE);
    } else if (field !== 'directories' || !isEmptyObject(raw)) {
      push(k, raw);
    }
  }
}

/** The JSON string of countersign's tarball URL for `version`, as it replaces the upstream's in both forms. */
function tarballToken(scanned: ScannedPackument, version: string, tarballUrl: TarballUrl): Buffer {
  return Buffer.from(JSON.stringify(tarballUrl(scanned.name, version)), 'utf8');
}

/** hasInstallScript of a manifest with these two values (as written), decoded only when they could matter. */
function installScript(flag: Buffer | undefined, scripts: Buffer | undefined): boolean {
  if (flag !== undefined && flag.equals(TRUE)) return true;
  // Without the word, or an escape that could spell it, no key of `scripts` is an install script.
  if (scripts === undefined || (!scripts.includes(INSTALL) && !scripts.includes(0x5c))) return false;
  return hasInstallScript({ scripts: JSON.parse(scripts.toString('utf8')) as unknown });
}

/** True for `{}` with any whitespace inside. */
function isEmptyObject(raw: Buffer): boolean {
  if (raw[0] !== 0x7b) return false;
  for (let i = 1; i < raw.length - 1; i++) {
    const c = raw[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
  }
  return true;
}
