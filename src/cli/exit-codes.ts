import type { ErrorCode } from '../errors.js';

/** Exit codes: 0 ok, 1 verification failed, 2 usage or config error. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Errors caused by what the person typed or configured (fix the command, the file or the URL). */
const USAGE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'ECS_USAGE',
  'ECS_CONFIG_INVALID',
  'ECS_CONFIG_NOT_FOUND',
  'ECS_KEYS_UNAVAILABLE',
  'ECS_KEY_FILE',
  'ECS_REGISTRY_UNREACHABLE',
  'ECS_UNAUTHORIZED',
  'ECS_RECORD_INVALID',
  'ECS_KEY_EXISTS',
  'ECS_STORE_VERSION',
  'ECS_STORE_UNAVAILABLE',
  'ECS_BAD_NAME',
  'ECS_BAD_VERSION',
  'ECS_BAD_PATH',
  'ECS_NOT_FOUND',
  'ECS_NO_RULE',
  'ECS_RATE_LIMITED',
]);

export function exitCodeFor(code: ErrorCode): number {
  return USAGE_CODES.has(code) ? EXIT_USAGE : EXIT_FAILED;
}
