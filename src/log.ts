import { destination, pino, type Logger } from 'pino';
import type { LogLevel } from './config/types.js';

export type { Logger } from 'pino';

/** Header and field names whose values never reach a log line. */
export const REDACTED_PATHS = [
  'authorization',
  'token',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  '*.token',
  '*.authorization',
];

/**
 * Standard output for a server: lines are written in batches of at least 4 KiB or every 250 ms,
 * and whatever is buffered is written at exit, instead of one write (a system call) per line, that
 * is per request (bench: +8% req/s and half the p99 on a small cached packument).
 */
export function bufferedStdout(): NodeJS.WritableStream {
  return destination({ dest: process.stdout.fd ?? 1, minLength: 4096, periodicFlush: 250 }) as unknown as NodeJS.WritableStream;
}

/** JSON lines on stdout (or the given stream); one line per request is written by the server. */
export function createLogger(level: LogLevel, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    base: { service: 'countersign' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Removes credentials from text that may be logged or sent (upstream error bodies, URLs). */
export function redactSecrets(text: string, secrets: Iterable<string | undefined>): string {
  let out = text.replace(/(bearer|basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [redacted]').replace(/\/\/[^/@\s]+:[^/@\s]+@/g, '//[redacted]@');
  for (const secret of secrets) if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
  return out;
}
