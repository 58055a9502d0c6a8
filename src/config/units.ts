/** Sizes as people write them in YAML: `512KB`, `64MB`, `1GiB`, or a number of bytes. Durations live in verify/duration.ts. */
export { parseDuration } from '../verify/duration.js';

const SIZE_BYTES: Record<string, number> = {
  B: 1,
  KB: 1_000,
  MB: 1_000_000,
  GB: 1_000_000_000,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
};

const SIZE_RE = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?\s*$/;

/** Bytes for `512KB`, `64MB`, `1GiB` or a plain number of bytes; throws on anything else. */
export function parseSize(value: string | number): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  const m = typeof value === 'string' ? SIZE_RE.exec(value) : null;
  if (!m) throw new TypeError(`expected a size like 512KB, 64MB or 10GB (got ${JSON.stringify(value)})`);
  return Math.round(Number(m[1]) * SIZE_BYTES[m[2] ?? 'B']!);
}
