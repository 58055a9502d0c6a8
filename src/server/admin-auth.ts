import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { CountersignError } from '../errors.js';

/** Shortest admin token accepted; a short one could be guessed over the network. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;

/**
 * Compares two tokens in constant time: both are hashed first, so neither the length nor the
 * first differing byte shows in the timing.
 */
export function tokensMatch(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

function bearer(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : '';
}

/**
 * `none` without an Authorization header, `admin` with the right bearer token, and an
 * ECS_UNAUTHORIZED error for any other Authorization header (a wrong token is never ignored).
 */
export function adminStatus(req: IncomingMessage, token: string | undefined): 'none' | 'admin' {
  const given = bearer(req);
  if (given === undefined) return 'none';
  if (token !== undefined && tokensMatch(given, token)) return 'admin';
  throw unauthorized();
}

export function unauthorized(): CountersignError {
  return new CountersignError('ECS_UNAUTHORIZED', 'this needs the admin token: send Authorization: Bearer <COUNTERSIGN_ADMIN_TOKEN> (the CLI reads COUNTERSIGN_ADMIN_TOKEN)');
}

/** Throws unless the request carries the admin token. */
export function assertAdmin(req: IncomingMessage, token: string): void {
  if (adminStatus(req, token) !== 'admin') throw unauthorized();
}

/** Checks COUNTERSIGN_ADMIN_TOKEN at start-up: unset or empty = admin API off. */
export function adminTokenFrom(env: NodeJS.ProcessEnv): string | undefined {
  const token = env.COUNTERSIGN_ADMIN_TOKEN;
  if (token === undefined || token === '') return undefined;
  if (token.length < MIN_ADMIN_TOKEN_LENGTH || /\s/.test(token)) {
    throw new CountersignError('ECS_CONFIG_INVALID', `COUNTERSIGN_ADMIN_TOKEN must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters without spaces (try: openssl rand -hex 32), or unset to turn the admin API off`);
  }
  return token;
}
