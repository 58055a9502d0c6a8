/**
 * The packument serializer on the proxy's hot path, in two phases:
 * 1. `prepareRender` (once per upstream document, independent of decisions) rewrites tarball URLs
 *    and serializes every version twice, full and abbreviated;
 * 2. `renderPackument` (once per decision set and form) copies the bytes of the allowed versions
 *    into one buffer. It never calls JSON.stringify on a manifest and never encodes a manifest
 *    again, so a 10 MB packument renders in the time of one memory copy.
 */
import { abbreviateManifest } from './abbreviated.js';
import { repointDistTags, type AllowedVersion, type DistTagMove } from './dist-tags.js';
import type { ParsedPackument } from './parse.js';
import { isRecord } from './untrusted.js';

export type PackumentForm = 'full' | 'abbreviated';

/** Builds the public tarball URL countersign serves for a version. */
export type TarballUrl = (name: string, version: string) => string;

export interface PreparedVersion extends AllowedVersion {
  /** UTF-8 of `"<version>":<full manifest>` (empty when the full form was not prepared) */
  readonly full: Buffer;
  /** UTF-8 of `"<version>":<abbreviated manifest>` (empty when the abbreviated form was not prepared) */
  readonly abbreviated: Buffer;
  /** Bytes of `"<version>":` at the start of `full`. */
  readonly keyBytes: number;
}

export interface PreparedTimeEntry {
  /** The version this entry dates, or undefined for `created`, `modified` and `unpublished`. */
  readonly version: string | undefined;
  /** `"<key>":<value>` */
  readonly member: string;
}

/** Phase-1 output: JSON fragments ready to be joined. Opaque to callers; immutable. */
export interface PreparedPackument {
  readonly name: string;
  /** The forms `renderPackument` can render from this. */
  readonly forms: ReadonlySet<PackumentForm>;
  readonly versions: ReadonlyMap<string, PreparedVersion>;
  readonly time: readonly PreparedTimeEntry[];
  readonly distTags: ReadonlyMap<string, string>;
  /** Members before `dist-tags` in the full form: `_id`, `_rev`, `name`. */
  readonly fullHead: string;
  /** Members after `time` in the full form, each preceded by a comma. */
  readonly fullTail: string;
  /** `,"modified":"…"` for the abbreviated form, or "" when the upstream has no `time.modified`. */
  readonly abbreviatedTail: string;
}

export interface RenderedPackument {
  /** The UTF-8 JSON text to send (and cache). */
  readonly body: Buffer;
  /** The dist-tags in `body`. */
  readonly distTags: ReadonlyMap<string, string>;
  /** What happened to the upstream dist-tags (for logs and metrics). */
  readonly moved: readonly DistTagMove[];
  /** How many versions `body` holds; 0 means every version is hidden or malformed. */
  readonly versionCount: number;
  /**
   * Where each version's manifest is in the UTF-8 bytes of `body` (`[start, end)`), so that one
   * manifest can be served without parsing the document. Full form only; empty otherwise.
   */
  readonly manifestRanges: ReadonlyMap<string, readonly [number, number]>;
}

const HEAD_KEYS = ['_id', '_rev', 'name'] as const;

const BOTH_FORMS: readonly PackumentForm[] = ['full', 'abbreviated'];

const EMPTY = Buffer.alloc(0);
const COMMA = 0x2c;

/**
 * Phase 1: rewrites `dist.tarball` to `tarballUrl(name, version)` and pre-serializes, for the
 * given forms (both by default: a server that only ever sends one form prepares only that one).
 * Pure.
 */
export function prepareRender(parsed: ParsedPackument, tarballUrl: TarballUrl, forms: readonly PackumentForm[] = BOTH_FORMS): PreparedPackument {
  const full = forms.includes('full');
  const abbreviated = forms.includes('abbreviated');
  const versions = new Map<string, PreparedVersion>();
  for (const [version, manifest] of parsed.versions) {
    const rewritten = withTarball(manifest, tarballUrl(parsed.name, version));
    const key = `${JSON.stringify(version)}:`;
    versions.set(version, {
      full: full ? Buffer.from(`${key}${JSON.stringify(rewritten)}`, 'utf8') : EMPTY,
      abbreviated: abbreviated ? Buffer.from(`${key}${JSON.stringify(abbreviateManifest(rewritten))}`, 'utf8') : EMPTY,
      keyBytes: Buffer.byteLength(key, 'utf8'),
      deprecated: parsed.facts.get(version)?.deprecated ?? false,
    });
  }

  const time: PreparedTimeEntry[] = [];
  for (const [key, value] of parsed.time) {
    time.push({ version: parsed.versions.has(key) ? key : undefined, member: member(key, value) });
  }
  if (parsed.unpublished !== undefined) time.push({ version: undefined, member: member('unpublished', parsed.unpublished) });

  const headKeys: readonly string[] = HEAD_KEYS;
  const head = headKeys.filter((key) => Object.hasOwn(parsed.doc, key)).map((key) => member(key, parsed.doc[key]));
  const tail = Object.keys(parsed.doc)
    .filter((key) => !headKeys.includes(key))
    .map((key) => `,${member(key, parsed.doc[key])}`);

  const modified = parsed.time.get('modified');
  return {
    name: parsed.name,
    forms: new Set(forms),
    versions,
    time,
    distTags: parsed.distTags,
    fullHead: head.join(','),
    fullTail: tail.join(''),
    abbreviatedTail: modified === undefined ? '' : `,${member('modified', modified)}`,
  };
}

/**
 * Phase 2: the packument text with only the `allowed` versions, in `form`. Versions in `allowed`
 * that the packument does not have are ignored. The result is always valid JSON.
 */
export function renderPackument(
  prepared: PreparedPackument,
  allowed: ReadonlySet<string>,
  form: PackumentForm,
): RenderedPackument {
  if (!prepared.forms.has(form)) throw new Error(`renderPackument: the ${form} form was not prepared`);
  const kept = new Map<string, PreparedVersion>();
  let versionBytes = 0;
  for (const [version, entry] of prepared.versions) {
    if (!allowed.has(version)) continue;
    kept.set(version, entry);
    versionBytes += (form === 'full' ? entry.full : entry.abbreviated).length + 1;
  }
  const { tags, moved } = repointDistTags(prepared.distTags, kept);
  const distTags = `"dist-tags":${stringMapJson(tags)}`;

  const head = Buffer.from(form === 'full' ? `{${prepared.fullHead},${distTags},"versions":{` : `{${member('name', prepared.name)},${distTags},"versions":{`, 'utf8');
  const tail = Buffer.from(form === 'full' ? `},"time":{${timeMembers(prepared.time, allowed)}}${prepared.fullTail}}` : `}${prepared.abbreviatedTail}}`, 'utf8');
  const body = Buffer.allocUnsafeSlow(head.length + Math.max(0, versionBytes - 1) + tail.length);
  let at = head.copy(body, 0);
  const manifestRanges = new Map<string, readonly [number, number]>();
  let first = true;
  for (const [version, entry] of kept) {
    if (!first) body[at++] = COMMA;
    first = false;
    const piece = form === 'full' ? entry.full : entry.abbreviated;
    if (form === 'full') manifestRanges.set(version, [at + entry.keyBytes, at + piece.length]);
    at += piece.copy(body, at);
  }
  // Every byte of the unzeroed buffer is written; a miscount must never send stale memory.
  if (at + tail.copy(body, at) !== body.length) throw new Error('renderPackument: byte count mismatch');
  return { body, distTags: tags, moved, versionCount: kept.size, manifestRanges };
}

function withTarball(manifest: Readonly<Record<string, unknown>>, tarball: string): Record<string, unknown> {
  // Spread copies with define semantics, so even a `__proto__` key could not reach a prototype.
  const dist = manifest['dist'];
  return { ...manifest, dist: { ...(isRecord(dist) ? dist : {}), tarball } };
}

function timeMembers(time: readonly PreparedTimeEntry[], allowed: ReadonlySet<string>): string {
  return time
    .filter((entry) => entry.version === undefined || allowed.has(entry.version))
    .map((entry) => entry.member)
    .join(',');
}

/** `{"key":"value",…}` of a map of strings. */
export function stringMapJson(map: ReadonlyMap<string, string>): string {
  return `{${[...map].map(([key, value]) => member(key, value)).join(',')}}`;
}

/** `"key":value`; a value JSON cannot represent becomes null, so the text stays valid JSON. */
function member(key: string, value: unknown): string {
  return `${JSON.stringify(key)}:${JSON.stringify(value) ?? 'null'}`;
}
