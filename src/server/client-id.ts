import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The client's address: the socket's, or behind a trusted proxy the first X-Forwarded-For hop. */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
    if (first) return first.slice(0, 64);
  }
  return req.socket.remoteAddress ?? 'unknown';
}

/**
 * A stable, non-reversible client identity for counting distinct clients: a salted hash of the
 * address and user-agent. The salt is random per installation, so the stored value cannot be
 * matched against a list of addresses; raw addresses are never stored.
 */
export function clientHash(salt: string, req: IncomingMessage, trustProxy: boolean): string {
  const ua = req.headers['user-agent'] ?? '';
  return createHash('sha256').update(`${salt}\0${clientAddress(req, trustProxy)}\0${ua.slice(0, 256)}`).digest('hex').slice(0, 32);
}
