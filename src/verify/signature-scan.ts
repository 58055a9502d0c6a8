/**
 * Finds the registry signatures in the raw bytes of a packument without parsing it, so that the
 * signature workers can verify them while the body downloads and the main thread parses it.
 *
 * It is a guess, and only ever used as one: each find is the triple (key, message, signature) as
 * the bytes seem to say, and its result is kept under that exact triple. The verdicts are computed
 * later from the parsed packument, which looks results up by the triples it builds itself; a
 * triple misread from unusual JSON (pretty-printed, escaped, fields in another order) is an entry
 * nobody asks for, and the signature it missed is verified then. A wrong guess costs time, never a
 * wrong verdict.
 *
 * The npm registry writes compact JSON in which every version's `dist` holds `"integrity":"…"`,
 * then `"signatures":[{"keyid":"…","sig":"…"}]`, with the manifest's `"version":"…"` before both.
 */

export interface ScannedSignature {
  /** Index of the key in the list the scan was given. */
  readonly keyIndex: number;
  /** `${name}@${version}:${integrity}`, as read. */
  readonly message: string;
  readonly sig: string;
}

const SIGNATURES = Buffer.from('"signatures":[');
const INTEGRITY = Buffer.from('"integrity":"');
const VERSION = Buffer.from('"version":"');
const QUOTE = 0x22;
const CLOSE_BRACKET = 0x5d;
/** A signatures array longer than this is not a registry's (one ~150-byte entry per key). */
export const MAX_ARRAY_BYTES = 4096;
/** How far before its range a scan looks for the fields of the first version it finds. */
export const LOOKBEHIND_BYTES = 64 * 1024;
/** Longer integrity or version strings are not a registry's either. */
const MAX_VALUE_BYTES = 512;

/** The string value starting at `start` (after its opening quote), if it ends before `limit` and has no escapes. */
function plainString(bytes: Buffer, start: number, limit: number): string | undefined {
  const end = bytes.indexOf(QUOTE, start);
  if (end === -1 || end >= limit || end - start > MAX_VALUE_BYTES) return undefined;
  const value = bytes.toString('utf8', start, end);
  return value.includes('\\') ? undefined : value;
}

/** The value of the last `"field":"…"` between `from` and `to`. */
function lastValue(bytes: Buffer, field: Buffer, from: number, to: number): string | undefined {
  // Searched in a view, so that a version without the field costs its own bytes, not the whole body.
  const at = bytes.subarray(from, to).lastIndexOf(field);
  return at === -1 ? undefined : plainString(bytes, from + at + field.length, to);
}

function signatureEntries(bytes: Buffer, open: number, close: number): Array<{ keyid: string; sig: string }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8', open, close + 1));
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  const entries: Array<{ keyid: string; sig: string }> = [];
  for (const entry of parsed) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { keyid, sig } = entry as { keyid?: unknown; sig?: unknown };
    if (typeof keyid === 'string' && typeof sig === 'string') entries.push({ keyid, sig });
  }
  return entries;
}

/**
 * The signatures by a key of `keyids` whose `"signatures":[` starts in `[from, to)` of `bytes`, the
 * packument of `name`. Up to 64 KB before `from` are read to find the first version's fields, so
 * that workers can split one body by ranges. Linear in the bytes read: every backward search stops
 * at the previous find.
 */
export function scanSignatures(bytes: Buffer, name: string, keyids: readonly string[], from = 0, to = bytes.length): ScannedSignature[] {
  const found: ScannedSignature[] = [];
  const keyIndex = new Map(keyids.map((keyid, i) => [keyid, i]));
  // How far back the fields of the version being read are looked for: after the previous find,
  // and for the first one, a window before `from` as big as any registry manifest's start.
  let floor = Math.max(0, from - LOOKBEHIND_BYTES);
  let at = bytes.indexOf(SIGNATURES, from);
  while (at !== -1 && at < to) {
    const open = at + SIGNATURES.length - 1;
    const close = bytes.indexOf(CLOSE_BRACKET, open);
    if (close === -1) break;
    if (close - open <= MAX_ARRAY_BYTES) {
      const integrity = lastValue(bytes, INTEGRITY, floor, at);
      const version = lastValue(bytes, VERSION, floor, at);
      if (integrity !== undefined && version !== undefined) {
        const message = `${name}@${version}:${integrity}`;
        for (const { keyid, sig } of signatureEntries(bytes, open, close)) {
          const index = keyIndex.get(keyid);
          if (index !== undefined) found.push({ keyIndex: index, message, sig });
        }
      }
    }
    floor = close;
    at = bytes.indexOf(SIGNATURES, close);
  }
  return found;
}
