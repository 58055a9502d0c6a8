/**
 * JSON for signed documents: a size cap, a depth cap, and no duplicate keys. `JSON.parse` keeps the
 * last of two equal keys silently, so a signer and a verifier could read different documents from
 * the same bytes; here any duplicate (after unescaping) is an error. The grammar is checked by a
 * small scanner first, then `JSON.parse` builds the value from the very same text.
 */

export class StrictJsonError extends Error {
  override readonly name = 'StrictJsonError';
}

export interface StrictJsonLimits {
  /** Largest input in bytes of UTF-8. */
  readonly maxBytes: number;
  /** Deepest nesting of arrays and objects. Default 32. */
  readonly maxDepth?: number;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// A JSON string literal: unescaped characters above U+001F, or the escapes JSON allows.
const STRING_RE = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y;

class Scanner {
  pos = 0;
  constructor(readonly text: string, readonly maxDepth: number) {}

  fail(what: string): never {
    throw new StrictJsonError(`${what} at offset ${this.pos}`);
  }

  skipWs(): void {
    while (this.pos < this.text.length && WS.has(this.text.charCodeAt(this.pos))) this.pos++;
  }

  string(): string {
    STRING_RE.lastIndex = this.pos;
    const m = STRING_RE.exec(this.text);
    if (!m) this.fail('invalid string');
    this.pos += m[0].length;
    return m[0];
  }

  value(depth: number): void {
    this.skipWs();
    const ch = this.text[this.pos];
    if (ch === '{') return this.object(depth + 1);
    if (ch === '[') return this.array(depth + 1);
    if (ch === '"') return void this.string();
    for (const word of ['true', 'false', 'null']) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return;
      }
    }
    NUMBER_RE.lastIndex = this.pos;
    const m = NUMBER_RE.exec(this.text);
    if (!m) this.fail(ch === undefined ? 'unexpected end of input' : `unexpected ${JSON.stringify(ch)}`);
    this.pos += m[0].length;
  }

  object(depth: number): void {
    if (depth > this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
    this.pos++;
    const keys = new Set<string>();
    this.skipWs();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return;
    }
    for (;;) {
      this.skipWs();
      if (this.text[this.pos] !== '"') this.fail('expected a key');
      const start = this.pos;
      const key = JSON.parse(this.string()) as string;
      if (keys.has(key)) {
        this.pos = start;
        this.fail(`duplicate key ${JSON.stringify(key.slice(0, 64))}`);
      }
      keys.add(key);
      this.skipWs();
      if (this.text[this.pos] !== ':') this.fail('expected ":"');
      this.pos++;
      this.value(depth);
      this.skipWs();
      const next = this.text[this.pos++];
      if (next === '}') return;
      if (next !== ',') this.fail('expected "," or "}"');
    }
  }

  array(depth: number): void {
    if (depth > this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
    this.pos++;
    this.skipWs();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return;
    }
    for (;;) {
      this.value(depth);
      this.skipWs();
      const next = this.text[this.pos++];
      if (next === ']') return;
      if (next !== ',') this.fail('expected "," or "]"');
    }
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Parses UTF-8 bytes (or text) as strict JSON. Throws StrictJsonError saying what is wrong and where. */
export function parseStrictJson(input: Uint8Array | string, limits: StrictJsonLimits): unknown {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > limits.maxBytes) throw new StrictJsonError(`document is ${size} bytes, over the ${limits.maxBytes}-byte cap`);
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    try {
      text = decoder.decode(input);
    } catch {
      throw new StrictJsonError('document is not valid UTF-8');
    }
  }
  if (text.charCodeAt(0) === 0xfeff) throw new StrictJsonError('document starts with a byte-order mark');
  const scanner = new Scanner(text, limits.maxDepth ?? 32);
  scanner.value(0);
  scanner.skipWs();
  if (scanner.pos !== text.length) scanner.fail('unexpected data after the JSON value');
  return JSON.parse(text) as unknown;
}

/** A plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
