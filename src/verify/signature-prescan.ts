/**
 * A guess at the registry signatures of a packument, read from its raw bytes before it is parsed,
 * so that the worker threads can verify them while this thread runs `JSON.parse` on 10 MB.
 *
 * Nothing here is trusted. A candidate is a (keyid, message, sig) triple; its verification result
 * is true or false for that exact triple whatever the bytes around it meant, and results are only
 * ever looked up by the triples the parsed packument asks about. A wrong guess (a `"version"` of
 * some dependency, a pretty-printed upstream, a hostile layout) costs one wasted verification, or
 * a miss that the normal path then verifies: never a wrong verdict.
 *
 * It reads the compact layout the npm registry serves, where each version's manifest has its
 * `"version"` before `"dist"`, and `dist` has `"integrity"` before `"signatures"`.
 */

export interface PrescanCandidate {
  readonly keyid: string;
  readonly message: string;
  readonly sig: string;
}

const SIGNATURES = Buffer.from('"signatures":[');
const INTEGRITY = Buffer.from('"integrity":"');
const VERSION = Buffer.from('"version":"');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const CLOSE_BRACKET = 0x5d;

/** How far before `"signatures"` the `"integrity"` of the same dist object may be. */
const DIST_WINDOW = 8 * 1024;
/** How far before `"signatures"` the `"version"` of the same manifest may be. */
const MANIFEST_WINDOW = 64 * 1024;
/** Longest `"signatures":[…]` array read; the registry's holds one or two entries. */
const MAX_ARRAY_BYTES = 4 * 1024;
const MAX_VALUE_BYTES = 1024;
const PAIR_RE = /\{\s*"keyid"\s*:\s*"([^"\\]{1,256})"\s*,\s*"sig"\s*:\s*"([^"\\]{1,1024})"\s*\}/g;

/**
 * The JSON string value right after the last `needle` in `bytes[end - window, end)`, or undefined
 * when there is none or it holds an escape (the parsed value would then differ from the bytes).
 */
function stringBefore(bytes: Buffer, needle: Buffer, end: number, window: number): string | undefined {
  const from = Math.max(0, end - window);
  const found = bytes.subarray(from, end).lastIndexOf(needle);
  if (found === -1) return undefined;
  const start = from + found + needle.length;
  const close = bytes.indexOf(QUOTE, start);
  if (close === -1 || close > end || close - start > MAX_VALUE_BYTES) return undefined;
  if (bytes.subarray(start, close).includes(BACKSLASH)) return undefined;
  return bytes.toString('utf8', start, close);
}

/**
 * Candidates signed by one of `keyids`, for `"signatures"` arrays that start in `[from, to)` of
 * `bytes`, at most `max` of them. Pure; linear in the bytes read.
 */
export function prescanSignatures(
  bytes: Buffer,
  name: string,
  keyids: ReadonlySet<string>,
  max: number,
  from = 0,
  to = bytes.length,
): PrescanCandidate[] {
  const out: PrescanCandidate[] = [];
  let at = bytes.indexOf(SIGNATURES, from);
  while (at !== -1 && at < to && out.length < max) {
    const open = at + SIGNATURES.length;
    const close = bytes.subarray(open, open + MAX_ARRAY_BYTES).indexOf(CLOSE_BRACKET);
    if (close !== -1) {
      const integrity = stringBefore(bytes, INTEGRITY, at, DIST_WINDOW);
      const version = integrity === undefined ? undefined : stringBefore(bytes, VERSION, at, MANIFEST_WINDOW);
      if (version !== undefined) {
        const message = `${name}@${version}:${integrity}`;
        for (const [, keyid, sig] of bytes.toString('utf8', open, open + close).matchAll(PAIR_RE)) {
          if (keyids.has(keyid!) && out.length < max) out.push({ keyid: keyid!, message, sig: sig! });
        }
      }
    }
    at = bytes.indexOf(SIGNATURES, open);
  }
  return out;
}
