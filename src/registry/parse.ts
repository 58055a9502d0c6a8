import { CountersignError } from '../errors.js';
import { extractVersionFacts } from './facts.js';
import { isValidVersion, MAX_VERSION_LENGTH } from './name.js';
import { copySafeFields, hasUnsafeKey, isRecord, isUnsafeKey, MAX_NESTING, nestedDeeperThan, truncate } from './untrusted.js';
import type { MalformedVersion, VersionFacts } from './types.js';

/** An upstream packument reduced to what countersign trusts. Built only by `parsePackument`. */
export interface ParsedPackument {
  readonly name: string;
  /**
   * The top-level fields other than `versions`, `time`, `dist-tags` and `_attachments`, in
   * upstream order, without prototype-polluting keys. `name` is always the expected name.
   */
  readonly doc: Readonly<Record<string, unknown>>;
  /** Manifests of the well-formed versions, in upstream order (top level and `dist` sanitized). */
  readonly versions: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
  /** `time` entries with string values: `created`, `modified` and the well-formed versions. */
  readonly time: ReadonlyMap<string, string>;
  /** `time.unpublished` (npm's record of a full unpublish), when it is an object. */
  readonly unpublished: Readonly<Record<string, unknown>> | undefined;
  /** Tags with a URL-safe name and a string value of at most 256 characters (it may name no version). */
  readonly distTags: ReadonlyMap<string, string>;
  readonly facts: ReadonlyMap<string, VersionFacts>;
  /** Entries of `versions` that were not modelled, with a one-line reason each. */
  readonly malformed: readonly MalformedVersion[];
}

const DOC_SKIPPED_KEYS: ReadonlySet<string> = new Set(['versions', 'time', 'dist-tags', '_attachments']);
/** The `time` entries that date the package, not a version. */
export const TIME_META_KEYS: ReadonlySet<string> = new Set(['created', 'modified']);
const MAX_TAG_LENGTH = 128;

/**
 * Parses an upstream packument (the output of `JSON.parse`) for the package `expectedName`.
 * Throws ECS_UPSTREAM_INVALID_JSON when the document as a whole cannot be a packument for that
 * name; a bad version only lands in `malformed`.
 */
export function parsePackument(doc: unknown, expectedName: string): ParsedPackument {
  if (!isRecord(doc)) {
    throw invalid(`the upstream packument for ${expectedName} is not a JSON object (got ${describe(doc)})`);
  }
  if (Object.hasOwn(doc, 'name') && doc['name'] !== expectedName) {
    const shown = typeof doc['name'] === 'string' ? JSON.stringify(truncate(doc['name'])) : describe(doc['name']);
    throw invalid(`the upstream packument for ${expectedName} names another package: ${shown}`);
  }
  const rawVersions = Object.hasOwn(doc, 'versions') && doc['versions'] !== undefined ? doc['versions'] : {};
  if (!isRecord(rawVersions)) {
    throw invalid(`the upstream packument for ${expectedName} has "versions" that is not an object (got ${describe(rawVersions)})`);
  }
  const rawTime = Object.hasOwn(doc, 'time') && isRecord(doc['time']) ? doc['time'] : {};

  const versions = new Map<string, Readonly<Record<string, unknown>>>();
  const facts = new Map<string, VersionFacts>();
  const malformed: MalformedVersion[] = [];
  for (const key of Object.keys(rawVersions)) {
    const checked = checkVersion(expectedName, key, rawVersions[key]);
    if (typeof checked === 'string') {
      malformed.push(malformedVersion(key, checked));
      continue;
    }
    const publishedAtRaw = ownString(rawTime, key);
    versions.set(key, checked.manifest);
    facts.set(key, extractVersionFacts(expectedName, key, checked.manifest, checked.dist, publishedAtRaw));
  }

  const sanitizedDoc = copySafeFields(doc, DOC_SKIPPED_KEYS);
  sanitizedDoc['name'] = expectedName;
  // Top-level fields are copied from the latest package.json (`repository`, `bugs`, …): one that
  // cannot be re-serialized is dropped rather than failing the whole package.
  for (const key of Object.keys(sanitizedDoc)) if (nestedDeeperThan(sanitizedDoc[key], MAX_NESTING - 1)) delete sanitizedDoc[key];
  const unpublished = Object.hasOwn(rawTime, 'unpublished') && isRecord(rawTime['unpublished']) && !nestedDeeperThan(rawTime['unpublished'], MAX_NESTING - 1)
    ? copySafeFields(rawTime['unpublished'])
    : undefined;
  return {
    name: expectedName,
    doc: sanitizedDoc,
    versions,
    time: keptTime(rawTime, versions),
    unpublished,
    distTags: Object.hasOwn(doc, 'dist-tags') && isRecord(doc['dist-tags']) ? keptTags(doc['dist-tags']) : new Map(),
    facts,
    malformed,
  };
}

interface CheckedVersion {
  readonly manifest: Record<string, unknown>;
  readonly dist: Record<string, unknown>;
}

/** A version that is not modelled, under a key short enough to show. */
function malformedVersion(key: string, reason: string): MalformedVersion {
  return { version: key.length > MAX_VERSION_LENGTH ? truncate(key) : key, reason };
}

/** Why the entry `key: manifest` of a packument's `versions` is malformed, or undefined when it is well formed. */
export function malformedEntry(name: string, key: string, manifest: unknown): MalformedVersion | undefined {
  const checked = checkVersion(name, key, manifest);
  return typeof checked === 'string' ? malformedVersion(key, checked) : undefined;
}

/** The sanitized manifest and dist of a well-formed version, or the reason it is malformed. */
function checkVersion(name: string, key: string, manifest: unknown): CheckedVersion | string {
  const shownKey = JSON.stringify(truncate(key));
  if (!isValidVersion(key)) {
    return key.length > MAX_VERSION_LENGTH
      ? `version key ${shownKey} is longer than ${MAX_VERSION_LENGTH} characters`
      : `version key ${shownKey} is not a valid semver version`;
  }
  if (!isRecord(manifest)) return `the manifest of ${shownKey} is not an object (got ${describe(manifest)})`;
  if (manifest['version'] !== key) {
    return `the manifest of ${shownKey} says version ${showValue(manifest['version'])}`;
  }
  if (Object.hasOwn(manifest, 'name') && manifest['name'] !== name) {
    return `the manifest of ${shownKey} says name ${showValue(manifest['name'])}, not ${name}`;
  }
  const rawDist = Object.hasOwn(manifest, 'dist') ? manifest['dist'] : undefined;
  if (!isRecord(rawDist)) return `the manifest of ${shownKey} has no "dist" object (got ${describe(rawDist)})`;
  if (nestedDeeperThan(manifest, MAX_NESTING)) return `the manifest of ${shownKey} has values nested deeper than ${MAX_NESTING} levels`;
  // Copied only when there is something to drop: otherwise the parsed object is already what the
  // copy would be (the document it came from is not used by anything else).
  const dist = hasUnsafeKey(rawDist) ? copySafeFields(rawDist) : rawDist;
  if (dist === rawDist && !hasUnsafeKey(manifest)) return { manifest, dist };
  const copy = copySafeFields(manifest);
  copy['dist'] = dist;
  return { manifest: copy, dist };
}

function keptTime(rawTime: Readonly<Record<string, unknown>>, versions: ReadonlyMap<string, unknown>): Map<string, string> {
  const time = new Map<string, string>();
  for (const key of Object.keys(rawTime)) {
    const value = rawTime[key];
    if (typeof value === 'string' && (TIME_META_KEYS.has(key) || versions.has(key))) time.set(key, value);
  }
  return time;
}

/** The dist-tags a packument's are kept as: string values no longer than a version, URL-safe tag names. */
export function keptTags(rawTags: Readonly<Record<string, unknown>>): Map<string, string> {
  const tags = new Map<string, string>();
  for (const tag of Object.keys(rawTags)) {
    const value = rawTags[tag];
    // A value longer than any valid version cannot name one; dropping it keeps logs short.
    if (typeof value === 'string' && value.length <= MAX_VERSION_LENGTH && isAcceptableTagName(tag)) tags.set(tag, value);
  }
  return tags;
}

/** npm's own rule (the tag survives URL encoding unchanged), plus a length cap and no unsafe keys. */
function isAcceptableTagName(tag: string): boolean {
  return tag.length > 0 && tag.length <= MAX_TAG_LENGTH && encodeURIComponent(tag) === tag && !isUnsafeKey(tag);
}

function ownString(record: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const value = Object.hasOwn(record, key) ? record[key] : undefined;
  return typeof value === 'string' ? value : undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

function showValue(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(truncate(value)) : describe(value);
}

function invalid(message: string): CountersignError {
  return new CountersignError('ECS_UPSTREAM_INVALID_JSON', message);
}
