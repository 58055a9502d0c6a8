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
import { ABBREVIATED_FIELDS } from './abbreviated.js';
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
  /** The value of MANIFEST_FIELDS[k] is `[fields[2k], fields[2k + 1])`; both 0 when the manifest has none. */
  readonly fields: Int32Array;
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

/**
 * The members of a manifest whose values the scan keeps the place of: the abbreviated form's
 * fields, in its order, then `scripts` (which decides `hasInstallScript`). Any other member is
 * skipped, and being copied as it is written, may even repeat.
 */
export const MANIFEST_FIELDS: readonly string[] = [...ABBREVIATED_FIELDS, 'scripts'];
const FIELD_NAME = MANIFEST_FIELDS.indexOf('name');
const FIELD_VERSION = MANIFEST_FIELDS.indexOf('version');
const FIELD_DIST = MANIFEST_FIELDS.indexOf('dist');
const FIELD_DEPRECATED = MANIFEST_FIELDS.indexOf('deprecated');

/** The members of a `dist` that facts are made of. */
const enum DistKey {
  Integrity,
  Shasum,
  Signatures,
  Tarball,
  Attestations,
}
const DIST_FIELDS = ['integrity', 'shasum', 'signatures', 'tarball', 'attestations'];

/** What a key table answers for a key that is not in it, and for `__proto__`, `constructor`, `prototype`. */
const OTHER = -1;
const UNSAFE = -2;

type KeyTable = ReadonlyMap<number, ReadonlyArray<readonly [Uint8Array, number]>>;

/** Each key's index in `keys`, by byte length, the unsafe keys in every table. */
function keyTable(keys: readonly string[]): KeyTable {
  const table = new Map<number, Array<readonly [Uint8Array, number]>>();
  const add = (key: string, id: number) => {
    const bytes = new Uint8Array(Buffer.from(key));
    table.set(bytes.length, [...(table.get(bytes.length) ?? []), [bytes, id]]);
  };
  keys.forEach(add);
  for (const key of ['__proto__', 'constructor', 'prototype']) add(key, UNSAFE);
  return table;
}

const MANIFEST_KEYS = keyTable(MANIFEST_FIELDS);
const DIST_KEYS = keyTable(DIST_FIELDS);

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

/** The values facts are made of, as JSON.parse gives them: extractVersionFacts reads these. */
interface FactFields {
  readonly manifest: { deprecated?: unknown };
  readonly dist: { integrity?: unknown; shasum?: unknown; signatures?: unknown; tarball?: unknown; attestations?: unknown };
}

// The two loops below run once per version after the scan. Outside the Scanner, so that V8
// compiles them on their own, not the whole scan again for every large packument.

/** The string `time` entries of versions in `versions`. */
function publishedTimes(time: readonly ScannedTimeEntry[], versions: ReadonlyMap<string, ScannedVersion>): Map<string, string> {
  const publishedAt = new Map<string, string>();
  for (const entry of time) if (entry.value !== undefined && versions.has(entry.key)) publishedAt.set(entry.key, entry.value);
  return publishedAt;
}

function versionFacts(name: string, factFields: ReadonlyMap<string, FactFields>, publishedAt: ReadonlyMap<string, string>): Map<string, VersionFacts> {
  const facts = new Map<string, VersionFacts>();
  for (const [version, { manifest, dist }] of factFields) facts.set(version, extractVersionFacts(name, version, manifest, dist, publishedAt.get(version)));
  return facts;
}

class Scanner {
  readonly #b: Buffer;
  readonly #name: string;
  /** Whether the string token read last had an escape. */
  #escaped = false;
  /** Set by #manifest when the manifest it read is not one parse.ts calls well formed. */
  #malformed = false;

  constructor(body: Buffer, name: string) {
    this.#b = body;
    this.#name = name;
  }

  document(): ScannedPackument {
    const b = this.#b;
    const members: ScannedMember[] = [];
    const seen = new Set<string>();
    const versions = new Map<string, ScannedVersion>();
    const factFields = new Map<string, FactFields>();
    const malformed: MalformedVersion[] = [];
    const time: ScannedTimeEntry[] = [];
    let distTags: ReadonlyMap<string, string> | undefined;
    const end = this.#members(this.#ws(0), (start) => {
      const key = this.#plainKey(start);
      const at = this.#afterColon(this.#keyEnd);
      if (seen.has(key) || isUnsafeKey(key)) throw DECLINE;
      seen.add(key);
      let end: number;
      if (key === 'versions') {
        end = this.#versions(at, versions, factFields, malformed);
      } else if (key === 'time') {
        end = this.#time(at, time);
      } else if (key === 'dist-tags') {
        if (b[at] !== OPEN_OBJECT) throw DECLINE;
        end = this.#value(at, 1);
        distTags = keptTags(JSON.parse(b.toString('utf8', at, end)) as Record<string, unknown>);
      } else {
        end = this.#value(at, 1);
        if (key === 'name' && (b[at] !== QUOTE || this.#string(at, end) !== this.#name)) throw DECLINE;
      }
      members.push({ key, start, end });
      return end;
    });
    if (this.#ws(end) !== b.length) throw DECLINE;
    // parse.ts fills in a missing name and an absent time or dist-tags, and says what is wrong with
    // a missing versions: left to it.
    if (!seen.has('name') || !seen.has('versions') || !seen.has('time') || distTags === undefined) throw DECLINE;

    return { name: this.#name, body: b, members, versions, malformed, time, distTags, facts: versionFacts(this.#name, factFields, publishedTimes(time, versions)) };
  }

  /** `"versions":{…}`: the well-formed versions read, the others judged by parse.ts. */
  #versions(i: number, out: Map<string, ScannedVersion>, factFields: Map<string, FactFields>, malformed: MalformedVersion[]): number {
    const b = this.#b;
    const seen = new Set<string>();
    return this.#members(i, (keyStart) => {
      const version = this.#plainKey(keyStart);
      const at = this.#afterColon(this.#keyEnd);
      if (seen.has(version)) throw DECLINE;
      seen.add(version);
      if (isValidVersion(version) && b[at] === OPEN_OBJECT) {
        const fields = new Int32Array(2 * MANIFEST_FIELDS.length);
        const facts: FactFields = { manifest: {}, dist: {} };
        const tarball = [0, 0];
        const end = this.#manifest(at, version, fields, facts, tarball);
        if (!this.#malformed) {
          out.set(version, { keyStart, start: at, end, tarballStart: tarball[0]!, tarballEnd: tarball[1]!, fields });
          factFields.set(version, facts);
          return end;
        }
      }
      // Not one the fast path serves: parse.ts says why it is malformed, from its own bytes.
      const end = this.#value(at, 2);
      const entry = malformedEntry(this.#name, version, JSON.parse(b.toString('utf8', at, end)));
      if (entry === undefined) throw DECLINE;
      malformed.push(entry);
      return end;
    });
  }

  /**
   * One manifest (depth 3): where each of MANIFEST_FIELDS is into `fields`, the values facts are
   * made of into `facts`, the tarball URL's token into `tarball`. Sets #malformed when its version,
   * name or dist is not what parse.ts calls well formed (the caller then asks parse.ts).
   */
  #manifest(i: number, version: string, fields: Int32Array, facts: FactFields, tarball: number[]): number {
    const b = this.#b;
    let seen = 0;
    let versionOk = false;
    let nameOk = true;
    let distOk = false;
    const end = this.#members(i, (start) => {
      const id = this.#key(start, MANIFEST_KEYS);
      const at = this.#afterColon(this.#keyEnd);
      if (id === UNSAFE) throw DECLINE;
      let end: number;
      if (id === FIELD_DIST && b[at] === OPEN_OBJECT) {
        end = this.#dist(at, facts.dist, tarball);
        distOk = true;
      } else {
        end = this.#value(at, 3);
        if (id === FIELD_VERSION) versionOk = b[at] === QUOTE && this.#string(at, end) === version;
        else if (id === FIELD_NAME) nameOk = b[at] === QUOTE && this.#string(at, end) === this.#name;
        else if (id === FIELD_DEPRECATED) facts.manifest.deprecated = this.#decode(at, end);
      }
      if (id !== OTHER) {
        if ((seen & (1 << id)) !== 0) throw DECLINE;
        seen |= 1 << id;
        fields[2 * id] = at;
        fields[2 * id + 1] = end;
      }
      return end;
    });
    this.#malformed = !versionOk || !nameOk || !distOk;
    // Well formed, but with no tarball URL to replace: left to the slow path.
    if (!this.#malformed && tarball[1] === 0) throw DECLINE;
    return end;
  }

  /** A manifest's `dist` (depth 4); `tarball` must be a string, its token's range goes to `tarball`. */
  #dist(i: number, dist: FactFields['dist'], tarball: number[]): number {
    const b = this.#b;
    let seen = 0;
    return this.#members(i, (start) => {
      const id = this.#key(start, DIST_KEYS);
      const at = this.#afterColon(this.#keyEnd);
      if (id === UNSAFE) throw DECLINE;
      const end = this.#value(at, 4);
      if (id === OTHER) return end;
      if ((seen & (1 << id)) !== 0) throw DECLINE;
      seen |= 1 << id;
      switch (id) {
        case DistKey.Integrity:
          dist.integrity = this.#decode(at, end);
          break;
        case DistKey.Shasum:
          dist.shasum = this.#decode(at, end);
          break;
        case DistKey.Signatures:
          dist.signatures = this.#decode(at, end);
          break;
        case DistKey.Attestations:
          dist.attestations = this.#decode(at, end);
          break;
        default:
          if (b[at] !== QUOTE) throw DECLINE;
          dist.tarball = this.#string(at, end);
          tarball[0] = at;
          tarball[1] = end;
      }
      return end;
    });
  }

  /** `"time":{…}`: each member's range and its string value. */
  #time(i: number, out: ScannedTimeEntry[]): number {
    const b = this.#b;
    const seen = new Set<string>();
    return this.#members(i, (start) => {
      const key = this.#plainKey(start);
      const at = this.#afterColon(this.#keyEnd);
      // `unpublished` is re-serialized without its unsafe keys by parse.ts: left to that path.
      if (seen.has(key) || key === 'unpublished') throw DECLINE;
      seen.add(key);
      const end = this.#value(at, 2);
      out.push({ key, start, end, value: b[at] === QUOTE ? this.#string(at, end) : undefined });
      return end;
    });
  }

  /**
   * The object at `i`, one member at a time: `member(start)` reads the member whose key starts at
   * `start` and returns where its value ends. Returns the object's end.
   */
  #members(i: number, member: (start: number) => number): number {
    const b = this.#b;
    if (b[i] !== OPEN_OBJECT) throw DECLINE;
    i = this.#ws(i + 1);
    if (b[i] === CLOSE_OBJECT) return i + 1;
    for (;;) {
      i = this.#ws(member(i));
      if (b[i] === COMMA) i = this.#ws(i + 1);
      else if (b[i] === CLOSE_OBJECT) return i + 1;
      else throw DECLINE;
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
  #key(i: number, table: KeyTable): number {
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
    return OTHER;
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
