/**
 * The cold packument's fast path: one validating pass over the upstream's raw bytes that yields
 * every version's facts and where each piece of the document lies, so that the full form can be
 * served by splicing those bytes (splice.ts) instead of `JSON.parse` + `JSON.stringify` of the
 * whole document. For the 10 MB typescript packument that is the difference between building and
 * collecting a heap of ~60 MB and reading the bytes once.
 *
 * It is exact or it declines. It accepts only what it can prove means the same to a client's
 * `JSON.parse` as to `parsePackument`: valid UTF-8, valid JSON by RFC 8259 (checked byte by byte),
 * no duplicate or escaped key where it reads keys, no number whose re-serialization could differ
 * (exponents, more than 300 characters), nothing parsePackument would drop or call malformed
 * (unsafe keys, bad versions, nesting past 64 levels, a version without a string `dist.tarball`,
 * `time.unpublished`). Anything else returns undefined and the caller parses the document as
 * before: declining costs time, never a different answer. The values the facts are made of are
 * decoded by `JSON.parse` of their own bytes and go through `extractVersionFacts`, as in
 * parse.ts. test/unit/registry/scan.test.ts holds both paths to the same result.
 */
import { isUtf8 } from 'node:buffer';
import { extractVersionFacts } from './facts.js';
import { isValidVersion } from './name.js';
import { keptTags, malformedEntry } from './parse.js';
import type { MalformedVersion, VersionFacts } from './types.js';
import { isUnsafeKey } from './untrusted.js';

/** One member of an object, `"key":value`, as the byte range `[start, end)`. */
export interface ScannedMember {
  readonly key: string;
  readonly start: number;
  readonly end: number;
}

export interface ScannedTimeEntry extends ScannedMember {
  /** The value when it is a string (only those are served), else undefined. */
  readonly value: string | undefined;
}

export interface ScannedVersion {
  /** `"<version>":` starts here. */
  readonly keyStart: number;
  /** The manifest object is `[start, end)`. */
  readonly start: number;
  readonly end: number;
  /** The `dist.tarball` string token, quotes included, is `[tarballStart, tarballEnd)`. */
  readonly tarballStart: number;
  readonly tarballEnd: number;
}

/** A packument read by `scanPackument`. Built only there; immutable. */
export interface ScannedPackument {
  readonly name: string;
  /** The upstream bytes every range points into. */
  readonly body: Buffer;
  /** The top-level members in upstream order, `versions`, `time` and `dist-tags` included. */
  readonly members: readonly ScannedMember[];
  /** The well-formed versions, in upstream order. */
  readonly versions: ReadonlyMap<string, ScannedVersion>;
  /** The other entries of `versions`, with parse.ts's reasons. */
  readonly malformed: readonly MalformedVersion[];
  readonly time: readonly ScannedTimeEntry[];
  /** The upstream dist-tags as parsePackument keeps them. */
  readonly distTags: ReadonlyMap<string, string>;
  readonly facts: ReadonlyMap<string, VersionFacts>;
}

/** Thrown inside the scan when the document is not one it can prove; never leaves this module. */
class Decline {}
const DECLINE = new Decline();

/** Absolute nesting allowed (the document is level 1): stricter than parse.ts's limits on manifests and top-level values. */
const MAX_DEPTH = 64;
/** Longest number token accepted: no 300-character number can overflow a double. */
const MAX_NUMBER_CHARS = 300;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

const TRUE = new Uint8Array(Buffer.from('true'));
const FALSE = new Uint8Array(Buffer.from('false'));
const NULL = new Uint8Array(Buffer.from('null'));

/** Keys read in a manifest and in its `dist`; every other key is skipped (and, being skipped, may repeat). */
const enum Key {
  Other,
  Unsafe,
  Name,
  Version,
  Dist,
  Deprecated,
  Integrity,
  Shasum,
  Signatures,
  Tarball,
  Attestations,
}

const MANIFEST_KEYS = keyTable({ name: Key.Name, version: Key.Version, dist: Key.Dist, deprecated: Key.Deprecated });
const DIST_KEYS = keyTable({ integrity: Key.Integrity, shasum: Key.Shasum, signatures: Key.Signatures, tarball: Key.Tarball, attestations: Key.Attestations });

type KeyTable = ReadonlyMap<number, ReadonlyArray<readonly [Uint8Array, Key]>>;

/** Keys by byte length, the unsafe ones in every table. */
function keyTable(keys: Record<string, Key>): KeyTable {
  const table = new Map<number, Array<readonly [Uint8Array, Key]>>();
  const add = (key: string, id: Key) => {
    const bytes = Buffer.from(key);
    table.set(bytes.length, [...(table.get(bytes.length) ?? []), [bytes, id]]);
  };
  for (const [key, id] of Object.entries(keys)) add(key, id);
  for (const key of ['__proto__', 'constructor', 'prototype']) add(key, Key.Unsafe);
  return table;
}

/**
 * Reads `body` as the packument of `expectedName`; undefined when the fast path cannot prove the
 * document (the caller then parses it). Pure; linear in the bytes.
 */
export function scanPackument(body: Buffer, expectedName: string): ScannedPackument | undefined {
  // Invalid UTF-8 is replaced when the body is decoded for JSON.parse, but would reach a client
  // of the spliced bytes as it came.
  if (!isUtf8(body)) return undefined;
  try {
    return new Scanner(body, expectedName).document();
  } catch (err) {
    if (err === DECLINE) return undefined;
    throw err;
  }
}

interface ManifestFields {
  deprecated?: unknown;
}

interface DistFields {
  integrity?: unknown;
  shasum?: unknown;
  signatures?: unknown;
  tarball?: unknown;
  attestations?: unknown;
}

class Scanner {
  readonly #b: Buffer;
  readonly #name: string;
  /** Whether the string token read last had an escape. */
  #escaped = false;

  constructor(body: Buffer, name: string) {
    this.#b = body;
    this.#name = name;
  }

  document(): ScannedPackument {
    const b = this.#b;
    let i = this.#ws(0);
    if (b[i] !== OPEN_OBJECT) throw DECLINE;
    const members: ScannedMember[] = [];
    const seen = new Set<string>();
    let versions: Map<string, ScannedVersion> | undefined;
    let manifests: Map<string, { manifest: ManifestFields; dist: DistFields }> | undefined;
    const malformed: MalformedVersion[] = [];
    let time: ScannedTimeEntry[] | undefined;
    let distTags: ReadonlyMap<string, string> | undefined;
    let named = false;
    i = this.#ws(i + 1);
    if (b[i] !== CLOSE_OBJECT) {
      for (;;) {
        const start = i;
        const key = this.#plainKey(i);
        i = this.#afterColon(this.#keyEnd);
        if (seen.has(key) || isUnsafeKey(key)) throw DECLINE;
        seen.add(key);
        let end: number;
        if (key === 'versions') {
          versions = new Map();
          manifests = new Map();
          end = this.#versions(i, versions, manifests, malformed);
        } else if (key === 'time') {
          time = [];
          end = this.#time(i, time);
        } else if (key === 'dist-tags') {
          if (b[i] !== OPEN_OBJECT) throw DECLINE;
          end = this.#value(i, 1);
          distTags = keptTags(JSON.parse(b.toString('utf8', i, end)) as Record<string, unknown>);
        } else {
          end = this.#value(i, 1);
          if (key === 'name') {
            if (b[i] !== QUOTE || this.#string(i, end) !== this.#name) throw DECLINE;
            named = true;
          }
        }
        members.push({ key, start, end });
        i = this.#ws(end);
        if (b[i] === COMMA) {
          i = this.#ws(i + 1);
          continue;
        }
        if (b[i] === CLOSE_OBJECT) break;
        throw DECLINE;
      }
    }
    if (this.#ws(i + 1) !== b.length) throw DECLINE;
    if (!named || versions === undefined || manifests === undefined || time === undefined || distTags === undefined) throw DECLINE;

    const publishedAt = new Map<string, string>();
    for (const entry of time) if (entry.value !== undefined && versions.has(entry.key)) publishedAt.set(entry.key, entry.value);
    const facts = new Map<string, VersionFacts>();
    for (const [version, { manifest, dist }] of manifests) {
      facts.set(version, extractVersionFacts(this.#name, version, manifest as Record<string, unknown>, dist as Record<string, unknown>, publishedAt.get(version)));
    }
    return { name: this.#name, body: b, members, versions, malformed, time, distTags, facts };
  }

  /** `"versions":{…}`: the well-formed versions read, the others judged by parse.ts. */
  #versions(i: number, out: Map<string, ScannedVersion>, manifests: Map<string, { manifest: ManifestFields; dist: DistFields }>, malformed: MalformedVersion[]): number {
    const b = this.#b;
    if (b[i] !== OPEN_OBJECT) throw DECLINE;
    const seen = new Set<string>();
    i = this.#ws(i + 1);
    if (b[i] === CLOSE_OBJECT) return i + 1;
    for (;;) {
      const keyStart = i;
      const version = this.#plainKey(i);
      i = this.#afterColon(this.#keyEnd);
      if (seen.has(version)) throw DECLINE;
      seen.add(version);
      let end: number;
      const manifest: ManifestFields = {};
      const dist: DistFields = {};
      const tarball = [0, 0];
      if (isValidVersion(version) && b[i] === OPEN_OBJECT && (end = this.#manifest(i, version, manifest, dist, tarball)) > 0) {
        out.set(version, { keyStart, start: i, end, tarballStart: tarball[0]!, tarballEnd: tarball[1]! });
        manifests.set(version, { manifest, dist });
      } else {
        // Not one the fast path serves: parse.ts says why it is malformed, from its own bytes.
        end = this.#value(i, 2);
        const entry = malformedEntry(this.#name, version, JSON.parse(b.toString('utf8', i, end)));
        if (entry === undefined) throw DECLINE;
        malformed.push(entry);
      }
      i = this.#ws(end);
      if (b[i] === COMMA) {
        i = this.#ws(i + 1);
        continue;
      }
      if (b[i] === CLOSE_OBJECT) return i + 1;
      throw DECLINE;
    }
  }

  /**
   * One manifest (depth 3) with its dist read; its end, or -1 when its version, name or dist is
   * not what parse.ts calls well formed (the caller then asks parse.ts).
   */
  #manifest(i: number, version: string, manifest: ManifestFields, dist: DistFields, tarball: number[]): number {
    const b = this.#b;
    let seen = 0;
    let versionOk = false;
    let nameOk = true;
    let distOk = true;
    i = this.#ws(i + 1);
    if (b[i] !== CLOSE_OBJECT) {
      for (;;) {
        const id = this.#key(i, MANIFEST_KEYS);
        i = this.#afterColon(this.#keyEnd);
        if (id !== Key.Other) {
          if (id === Key.Unsafe || (seen & (1 << id)) !== 0) throw DECLINE;
          seen |= 1 << id;
        }
        let end: number;
        if (id === Key.Dist && b[i] === OPEN_OBJECT) {
          end = this.#dist(i, dist, tarball);
        } else {
          end = this.#value(i, 3);
          if (id === Key.Version) versionOk = b[i] === QUOTE && this.#string(i, end) === version;
          else if (id === Key.Name) nameOk = b[i] === QUOTE && this.#string(i, end) === this.#name;
          else if (id === Key.Deprecated) manifest.deprecated = this.#decode(i, end);
          else if (id === Key.Dist) distOk = false;
        }
        i = this.#ws(end);
        if (b[i] === COMMA) {
          i = this.#ws(i + 1);
          continue;
        }
        if (b[i] === CLOSE_OBJECT) break;
        throw DECLINE;
      }
    }
    if (!versionOk || !nameOk || !distOk || (seen & (1 << Key.Dist)) === 0) return -1;
    // Well formed, but with no tarball URL to replace: left to the slow path.
    if (tarball[1] === 0) throw DECLINE;
    return i + 1;
  }

  /** A manifest's `dist` (depth 4); `tarball` must be a string, its token's range goes to `tarball`. */
  #dist(i: number, dist: DistFields, tarball: number[]): number {
    const b = this.#b;
    let seen = 0;
    i = this.#ws(i + 1);
    if (b[i] === CLOSE_OBJECT) return i + 1;
    for (;;) {
      const id = this.#key(i, DIST_KEYS);
      i = this.#afterColon(this.#keyEnd);
      if (id !== Key.Other) {
        if (id === Key.Unsafe || (seen & (1 << id)) !== 0) throw DECLINE;
        seen |= 1 << id;
      }
      const end = this.#value(i, 4);
      switch (id) {
        case Key.Integrity:
          dist.integrity = this.#decode(i, end);
          break;
        case Key.Shasum:
          dist.shasum = this.#decode(i, end);
          break;
        case Key.Signatures:
          dist.signatures = this.#decode(i, end);
          break;
        case Key.Attestations:
          dist.attestations = this.#decode(i, end);
          break;
        case Key.Tarball:
          if (b[i] !== QUOTE) throw DECLINE;
          dist.tarball = this.#string(i, end);
          tarball[0] = i;
          tarball[1] = end;
          break;
        default:
      }
      i = this.#ws(end);
      if (b[i] === COMMA) {
        i = this.#ws(i + 1);
        continue;
      }
      if (b[i] === CLOSE_OBJECT) return i + 1;
      throw DECLINE;
    }
  }

  /** `"time":{…}`: each member's range and its string value. */
  #time(i: number, out: ScannedTimeEntry[]): number {
    const b = this.#b;
    if (b[i] !== OPEN_OBJECT) throw DECLINE;
    const seen = new Set<string>();
    i = this.#ws(i + 1);
    if (b[i] === CLOSE_OBJECT) return i + 1;
    for (;;) {
      const start = i;
      const key = this.#plainKey(i);
      i = this.#afterColon(this.#keyEnd);
      // `unpublished` is re-serialized without its unsafe keys by parse.ts: left to that path.
      if (seen.has(key) || key === 'unpublished') throw DECLINE;
      seen.add(key);
      const end = this.#value(i, 2);
      out.push({ key, start, end, value: b[i] === QUOTE ? this.#string(i, end) : undefined });
      i = this.#ws(end);
      if (b[i] === COMMA) {
        i = this.#ws(i + 1);
        continue;
      }
      if (b[i] === CLOSE_OBJECT) return i + 1;
      throw DECLINE;
    }
  }

  /** End of the key read last by #key or #plainKey. */
  #keyEnd = 0;

  /** The key token at `i` decoded; declines an escaped key (its bytes would not be its name). */
  #plainKey(i: number): string {
    if (this.#b[i] !== QUOTE) throw DECLINE;
    const end = this.#skipString(i);
    if (this.#escaped) throw DECLINE;
    this.#keyEnd = end;
    return this.#b.toString('utf8', i + 1, end - 1);
  }

  /** Which of `table`'s keys the key token at `i` is, without decoding it. */
  #key(i: number, table: KeyTable): Key {
    const b = this.#b;
    if (b[i] !== QUOTE) throw DECLINE;
    const end = this.#skipString(i);
    if (this.#escaped) throw DECLINE;
    this.#keyEnd = end;
    const candidates = table.get(end - i - 2);
    if (candidates !== undefined) {
      // Compared here rather than with Buffer#compare: for keys this short the call costs more than the bytes.
      for (const [bytes, id] of candidates) {
        let k = 0;
        while (k < bytes.length && bytes[k] === b[i + 1 + k]) k++;
        if (k === bytes.length) return id;
      }
    }
    return Key.Other;
  }

  /** Past the `:` after a key and the whitespace after it. */
  #afterColon(i: number): number {
    i = this.#ws(i);
    if (this.#b[i] !== COLON) throw DECLINE;
    return this.#ws(i + 1);
  }

  /** The string token `[start, end)` just read by #value, decoded. */
  #string(start: number, end: number): string {
    return this.#escaped ? (JSON.parse(this.#b.toString('utf8', start, end)) as string) : this.#b.toString('utf8', start + 1, end - 1);
  }

  /** The value token `[start, end)` just read by #value, as JSON.parse gives it. */
  #decode(start: number, end: number): unknown {
    return this.#b[start] === QUOTE ? this.#string(start, end) : JSON.parse(this.#b.toString('utf8', start, end));
  }

  #ws(i: number): number {
    const b = this.#b;
    let c = b[i];
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++i];
    return i;
  }

  /** Validates the value at `i` (inside `depth` levels of nesting); returns its end. */
  #value(i: number, depth: number): number {
    const c = this.#b[i];
    if (c === QUOTE) return this.#skipString(i);
    if (c === OPEN_OBJECT) return this.#object(i, depth + 1);
    if (c === OPEN_ARRAY) return this.#array(i, depth + 1);
    if (c === MINUS || (c !== undefined && c >= ZERO && c <= NINE)) return this.#number(i);
    if (c === 0x74) return this.#literal(i, TRUE);
    if (c === 0x66) return this.#literal(i, FALSE);
    if (c === 0x6e) return this.#literal(i, NULL);
    throw DECLINE;
  }

  #object(i: number, depth: number): number {
    if (depth > MAX_DEPTH) throw DECLINE;
    const b = this.#b;
    i = this.#ws(i + 1);
    if (b[i] === CLOSE_OBJECT) return i + 1;
    for (;;) {
      if (b[i] !== QUOTE) throw DECLINE;
      i = this.#afterColon(this.#skipString(i));
      i = this.#ws(this.#value(i, depth));
      const c = b[i];
      if (c === COMMA) {
        i = this.#ws(i + 1);
        continue;
      }
      if (c === CLOSE_OBJECT) return i + 1;
      throw DECLINE;
    }
  }

  #array(i: number, depth: number): number {
    if (depth > MAX_DEPTH) throw DECLINE;
    const b = this.#b;
    i = this.#ws(i + 1);
    if (b[i] === CLOSE_ARRAY) return i + 1;
    for (;;) {
      i = this.#ws(this.#value(i, depth));
      const c = b[i];
      if (c === COMMA) {
        i = this.#ws(i + 1);
        continue;
      }
      if (c === CLOSE_ARRAY) return i + 1;
      throw DECLINE;
    }
  }

  /** The string token at `i` (its opening quote); returns the index after its closing quote. */
  #skipString(i: number): number {
    const b = this.#b;
    this.#escaped = false;
    i++;
    for (;;) {
      const c = b[i++]!;
      if (c === QUOTE) return i;
      if (c === BACKSLASH) {
        this.#escaped = true;
        i = this.#escape(i);
      } else if (!(c >= 0x20)) {
        // A raw control character (JSON.parse refuses it), or the end of the body.
        throw DECLINE;
      }
    }
  }

  /** The escape after a backslash at `i - 1`; returns the index after it. */
  #escape(i: number): number {
    const b = this.#b;
    const c = b[i];
    // " \ / b f n r t
    if (c === 0x22 || c === 0x5c || c === 0x2f || c === 0x62 || c === 0x66 || c === 0x6e || c === 0x72 || c === 0x74) return i + 1;
    if (c !== 0x75) throw DECLINE;
    for (let k = 1; k <= 4; k++) {
      const h = b[i + k];
      const hex = h !== undefined && ((h >= ZERO && h <= NINE) || (h >= 0x41 && h <= 0x46) || (h >= 0x61 && h <= 0x66));
      if (!hex) throw DECLINE;
    }
    return i + 5;
  }

  /** RFC 8259's number grammar, without exponents (their re-serialization can differ). */
  #number(i: number): number {
    const b = this.#b;
    const start = i;
    if (b[i] === MINUS) i++;
    let c = b[i];
    if (c === ZERO) i++;
    else if (c !== undefined && c > ZERO && c <= NINE) {
      do c = b[++i];
      while (c !== undefined && c >= ZERO && c <= NINE);
    } else throw DECLINE;
    if (b[i] === DOT) {
      c = b[++i];
      if (c === undefined || c < ZERO || c > NINE) throw DECLINE;
      do c = b[++i];
      while (c !== undefined && c >= ZERO && c <= NINE);
    }
    c = b[i];
    if (c === 0x65 || c === 0x45 || i - start > MAX_NUMBER_CHARS) throw DECLINE;
    return i;
  }

  #literal(i: number, word: Uint8Array): number {
    const b = this.#b;
    for (let k = 0; k < word.length; k++) if (b[i + k] !== word[k]) throw DECLINE;
    return i + word.length;
  }
}
