import { errors as undiciErrors } from 'undici';
import { CountersignError } from '../errors.js';

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'ERR_STREAM_PREMATURE_CLOSE']);

function codeOf(err: unknown): string | undefined {
  const direct = (err as { code?: unknown } | undefined)?.code;
  if (typeof direct === 'string') return direct;
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  return cause === undefined ? undefined : codeOf(cause);
}

/**
 * Maps what undici and the socket throw to our codes. `receiving` tells whether the response had
 * started: a reset before the status line means unreachable (503), after it a broken body (502).
 */
export function upstreamError(err: unknown, upstream: string, what: string, receiving: boolean): CountersignError {
  if (err instanceof CountersignError) return err;
  const code = codeOf(err);
  const cause = { cause: err, details: { upstream, code } };
  if (err instanceof undiciErrors.ConnectTimeoutError) {
    return new CountersignError('ECS_UPSTREAM_TIMEOUT', `upstream ${upstream} did not accept a connection in time for ${what}`, cause);
  }
  if (err instanceof undiciErrors.HeadersTimeoutError) {
    return new CountersignError('ECS_UPSTREAM_TIMEOUT', `upstream ${upstream} did not answer in time for ${what}`, cause);
  }
  if (err instanceof undiciErrors.BodyTimeoutError) {
    return new CountersignError('ECS_UPSTREAM_TIMEOUT', `upstream ${upstream} stopped sending ${what} (body idle timeout)`, cause);
  }
  if (code !== undefined && isInflateError(code)) {
    return new CountersignError('ECS_UPSTREAM_INVALID_JSON', `upstream ${upstream} sent ${what} in a body that does not inflate (its Content-Encoding): ${errorMessage(err)}`, cause);
  }
  if (code !== undefined && UNREACHABLE_CODES.has(code)) {
    return new CountersignError('ECS_UPSTREAM_UNREACHABLE', `upstream ${upstream} is unreachable (${code}) for ${what}`, cause);
  }
  if (code !== undefined && RESET_CODES.has(code)) {
    return receiving
      ? new CountersignError('ECS_UPSTREAM_RESET', `upstream ${upstream} closed the connection while sending ${what}`, cause)
      : new CountersignError('ECS_UPSTREAM_UNREACHABLE', `upstream ${upstream} closed the connection before answering for ${what}`, cause);
  }
  return new CountersignError(receiving ? 'ECS_UPSTREAM_RESET' : 'ECS_UPSTREAM_UNREACHABLE', `upstream ${upstream} failed for ${what}: ${errorMessage(err)}`, cause);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** zlib's gzip/deflate errors (Z_DATA_ERROR, Z_BUF_ERROR, …) and its brotli decoder's (ERR__ERROR_FORMAT_…). */
function isInflateError(code: string): boolean {
  return code.startsWith('Z_') || code.startsWith('ERR__ERROR_');
}
