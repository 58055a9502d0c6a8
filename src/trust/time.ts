const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2})$/;

/** Milliseconds of an RFC 3339 timestamp (`2025-03-01T12:00:00Z`), or undefined. */
export function parseTimestamp(text: unknown): number | undefined {
  if (typeof text !== 'string' || !ISO_RE.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
