/**
 * Every failure countersign reports carries a stable `ECS_…` code. Callers match on `err.code`,
 * never on the message. The catalog below is the single source of truth: the README's error table
 * is checked against it by test/unit/errors.test.ts.
 */

export interface ErrorSpec {
  /** HTTP status sent to clients when this error ends a request. */
  readonly status: number;
  /** One line for the README table: when this happens. */
  readonly summary: string;
  /** Only the CLI and start-up report it (exit code 2); no client ever receives it. */
  readonly cliOnly?: true;
}

export const ERROR_CATALOG = {
  ECS_CONFIG_INVALID: { status: 500, cliOnly: true, summary: 'The config file does not match the schema; start-up stops (exit 2).' },
  ECS_CONFIG_NOT_FOUND: { status: 500, cliOnly: true, summary: 'The config file could not be read; start-up stops (exit 2).' },
  ECS_USAGE: { status: 400, cliOnly: true, summary: 'A CLI command was called with missing or malformed arguments (exit 2).' },
  ECS_BAD_NAME: { status: 400, summary: 'The package name in the URL is not a valid npm name.' },
  ECS_BAD_PATH: { status: 400, summary: 'The URL has traversal, control characters or extra segments.' },
  ECS_BAD_HOST: { status: 400, summary: 'The Host (or X-Forwarded-Host) header cannot form a public URL; set server.publicUrl.' },
  ECS_NO_RULE: { status: 403, summary: 'No policy rule matches the package name; add a catch-all rule (match: ["**"]).' },
  ECS_BAD_VERSION: { status: 400, summary: 'The version or tag in the URL is not valid.' },
  ECS_TARBALL_NAME_MISMATCH: { status: 400, summary: 'The tarball file name does not belong to the package in the URL.' },
  ECS_BODY_TOO_LARGE: { status: 413, summary: 'The request body is over the configured limit.' },
  ECS_NOT_FOUND: { status: 404, summary: 'The package, version or tag does not exist upstream.' },
  ECS_VERSION_HIDDEN: { status: 403, summary: 'The version fails the policy; the message names the checks that failed.' },
  ECS_ALL_VERSIONS_HIDDEN: { status: 403, summary: 'Every version of the package fails the policy.' },
  ECS_TARBALL_ORIGIN: { status: 403, summary: 'The packument points the tarball at a host that is not a configured upstream.' },
  ECS_PUBLISH_REFUSED: { status: 405, summary: 'Publishing, unpublishing or tagging a name that is not in a fast scope.' },
  ECS_METHOD_NOT_ALLOWED: { status: 405, summary: 'The HTTP method is not supported on this path.' },
  ECS_INTEGRITY_MISMATCH: { status: 502, summary: 'The tarball from the upstream does not match dist.integrity; nothing was cached.' },
  ECS_UPSTREAM_STATUS: { status: 502, summary: 'The upstream answered with an unexpected status.' },
  ECS_UPSTREAM_INVALID_JSON: { status: 502, summary: 'The upstream sent a packument that is not valid JSON or not a packument.' },
  ECS_UPSTREAM_TOO_LARGE: { status: 502, summary: 'The upstream body is over the configured size cap.' },
  ECS_UPSTREAM_RESET: { status: 502, summary: 'The upstream closed the connection before the body was complete.' },
  ECS_UPSTREAM_UNREACHABLE: { status: 503, summary: 'The upstream cannot be reached and nothing is cached.' },
  ECS_UPSTREAM_TIMEOUT: { status: 504, summary: 'The upstream did not connect, answer or send body bytes in time.' },
  ECS_KEYS_UNAVAILABLE: { status: 503, summary: 'The registry signing keys could not be loaded for an upstream.' },
  ECS_NOT_READY: { status: 503, summary: 'The server is starting or shutting down.' },
  ECS_INTERNAL: { status: 500, summary: 'A bug: the log line with the same request id has the stack.' },
  ECS_STORE_CORRUPT: { status: 500, cliOnly: true, summary: 'trust.db is not a readable SQLite database or its hash chain is broken; start-up stops. Run countersign store verify, then restore trust.db from a backup.' },
  ECS_STORE_VERSION: { status: 500, cliOnly: true, summary: 'trust.db was written by a newer countersign; start-up stops. Run that version, or restore a backup.' },
  ECS_STORE_UNAVAILABLE: { status: 503, summary: 'The trust store cannot be opened (missing, permissions, disk) or is closed for shutdown.' },
  ECS_STORE_FULL: { status: 507, summary: 'The trust store holds trust.maxEntries entries and refuses new ones; raise the limit.' },
  ECS_DOCUMENT_INVALID: { status: 400, summary: 'A submitted document is not a strict DSSE envelope around an in-toto Statement with a countersign predicate.' },
  ECS_RECORD_INVALID: { status: 400, summary: 'A key enrolment, revocation or exemption is malformed or breaks a limit (such as trust.maxKeyValidity).' },
  ECS_UNAUTHORIZED: { status: 401, summary: 'The admin API needs Authorization: Bearer with the token in COUNTERSIGN_ADMIN_TOKEN.' },
  ECS_KEY_EXISTS: { status: 409, summary: 'The key is already enrolled; rotate by enrolling a new key for the same principal.' },
  ECS_SIGNATURE_INVALID: { status: 422, summary: 'The Ed25519 signature of a document does not verify with the enrolled key.' },
  ECS_KEY_UNKNOWN: { status: 422, summary: 'A document is signed by a key that is not enrolled; ask an admin to enrol it.' },
  ECS_KEY_NOT_VALID: { status: 422, summary: 'The signing key may not sign this document: revoked, expired, not yet valid, wrong role or package outside its globs.' },
  ECS_RATE_LIMITED: { status: 429, summary: 'Too many document submissions from this client; retry after the Retry-After seconds.' },
  ECS_KEY_FILE: { status: 400, cliOnly: true, summary: 'A private key file is missing, unreadable, malformed or readable by others (exit 2).' },
  ECS_REGISTRY_UNREACHABLE: { status: 503, cliOnly: true, summary: 'The CLI cannot reach countersign at --registry (or COUNTERSIGN_URL) (exit 2).' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export class CountersignError extends Error {
  override readonly name = 'CountersignError';
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra fields for logs and JSON answers (never secrets). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = ERROR_CATALOG[code].status;
    this.details = options.details;
  }
}

export function isCountersignError(err: unknown, code?: ErrorCode): err is CountersignError {
  return err instanceof CountersignError && (code === undefined || err.code === code);
}

/** Wraps anything thrown into a CountersignError, keeping the original as `cause`. */
export function toCountersignError(err: unknown): CountersignError {
  if (err instanceof CountersignError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new CountersignError('ECS_INTERNAL', `internal error: ${message}`, { cause: err });
}
