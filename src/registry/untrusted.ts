/**
 * Helpers for reading JSON that came from an upstream we do not trust.
 *
 * `JSON.parse` turns a `"__proto__"` key into an own data property, which is harmless until
 * someone copies it with `target[key] = value` (or `Object.assign`): that sets the prototype of
 * `target` instead. Every copy we make of upstream objects goes through `copySafeFields`, which
 * drops such keys, so the objects we hand downstream have only ordinary own properties.
 */

/** Keys that change an object's prototype or shadow its machinery when assigned. */
const UNSAFE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export function isUnsafeKey(key: string): boolean {
  return UNSAFE_KEYS.has(key);
}

/** True for a JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A shallow copy of `source` in its key order, without unsafe keys and without the keys in
 * `skip`. Values are shared, not cloned: they are JSON data and are only ever read or serialized.
 */
const NOTHING: ReadonlySet<string> = new Set();

export function copySafeFields(
  source: Readonly<Record<string, unknown>>,
  skip: ReadonlySet<string> = NOTHING,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    if (isUnsafeKey(key) || skip.has(key)) continue;
    out[key] = source[key];
  }
  return out;
}

/** A string safe to quote in a one-line message: at most `max` characters, then an ellipsis. */
export function truncate(text: string, max = 64): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * JSON.parse accepts any nesting, but JSON.stringify recurses and overflows the stack somewhere
 * past ten thousand levels. Real manifests nest under ten; values deeper than this are refused.
 */
export const MAX_NESTING = 64;

/** True when `value` nests objects or arrays more than `limit` levels deep. Recurses at most `limit + 1` levels. */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (limit === 0) return true;
  // Only objects and arrays recurse: most values of a manifest are strings.
  if (Array.isArray(value)) {
    for (const item of value) if (typeof item === 'object' && item !== null && nestedDeeperThan(item, limit - 1)) return true;
    return false;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const item = record[key];
    if (typeof item === 'object' && item !== null && nestedDeeperThan(item, limit - 1)) return true;
  }
  return false;
}

/** True when `record` has an own key that copySafeFields would drop as unsafe. */
export function hasUnsafeKey(record: Readonly<Record<string, unknown>>): boolean {
  for (const key of UNSAFE_KEYS) if (Object.hasOwn(record, key)) return true;
  return false;
}
