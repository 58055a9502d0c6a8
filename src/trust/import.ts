import { isCountersignError } from '../errors.js';
import type { SubmitResult } from './trust-store.js';

export interface ImportReport {
  readonly accepted: number;
  readonly duplicates: number;
  readonly rejected: ReadonlyArray<{ readonly line: number; readonly code: string; readonly error: string }>;
}

/** Lines verified between two yields to the event loop. */
const CHUNK = 25;

/**
 * Imports JSON Lines of envelopes: each line is verified and admitted on its own; a bad line is
 * reported (with its number and why) and skipped, the others are accepted. Blank lines are
 * ignored. `pause` lets a server answer other requests between chunks.
 */
export async function importJsonLines(text: string, submit: (bytes: Uint8Array) => SubmitResult, pause: () => Promise<void> = async () => {}): Promise<ImportReport> {
  let accepted = 0;
  let duplicates = 0;
  const rejected: Array<{ line: number; code: string; error: string }> = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.trim() === '') continue;
    try {
      const result = submit(Buffer.from(line, 'utf8'));
      if (result.duplicate) duplicates++;
      else accepted++;
    } catch (err) {
      if (!isCountersignError(err) || err.code === 'ECS_STORE_UNAVAILABLE' || err.code === 'ECS_STORE_CORRUPT') throw err;
      rejected.push({ line: i + 1, code: err.code, error: err.message });
    }
    if ((i + 1) % CHUNK === 0) await pause();
  }
  return { accepted, duplicates, rejected };
}
