/** Durations as written in the policy (`minReleaseAge: 3d`), in milliseconds. */

const UNIT_MS = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
} as const;

type Unit = keyof typeof UNIT_MS;

const DURATION_RE = /^(\d+)(ms|s|m|h|d|w)$/;
const EXPECTED = 'expected a duration like 3d, 12h, 30m, 90s, 2w or 0';

function invalid(text: string | number): Error {
  return new Error(`invalid duration ${JSON.stringify(text)}: ${EXPECTED}`);
}

/**
 * Parses `0`, `250ms`, `90s`, `15m`, `12h`, `3d` or `2w` into milliseconds. A bare number other
 * than 0 (`3600`, `"3600"`) is refused: whether it means seconds or milliseconds would be a guess,
 * and a quarantine off by a factor of 1,000 fails silently. Throws an Error saying what is expected.
 */
export function parseDuration(text: string | number): number {
  if (text === 0 || text === '0') return 0;
  if (typeof text !== 'string') throw invalid(text);
  const match = DURATION_RE.exec(text.trim());
  if (!match) throw invalid(text);
  const ms = Number(match[1]) * UNIT_MS[match[2] as Unit];
  if (!Number.isSafeInteger(ms)) throw new Error(`invalid duration ${JSON.stringify(text)}: too large`);
  return ms;
}

const DISPLAY_UNITS: ReadonlyArray<readonly [Unit, number]> = [
  ['d', UNIT_MS.d],
  ['h', UNIT_MS.h],
  ['m', UNIT_MS.m],
  ['s', UNIT_MS.s],
];

/** A short human form: `3d`, `2d 4h`, `45s`, `250ms`: the largest unit, then the next one when not zero, rounded down. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const sign = ms < 0 ? '-' : '';
  let rest = Math.floor(Math.abs(ms));
  if (rest < UNIT_MS.s) return `${sign}${rest}ms`;
  const parts: string[] = [];
  for (const [unit, size] of DISPLAY_UNITS) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    } else if (parts.length > 0) {
      break;
    }
  }
  return sign + parts.join(' ');
}
