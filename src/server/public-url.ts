import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Config } from '../config/types.js';
import { CountersignError } from '../errors.js';

const HOST_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

function first(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return text?.split(',')[0]?.trim() || undefined;
}

/**
 * The base URL clients reach us at, ending with `/`: `server.publicUrl` when configured, else built
 * from the request's Host (and, behind a trusted proxy, X-Forwarded-Host/Proto). The host is
 * validated, because it ends up in every tarball URL we serve.
 */
export function publicBase(req: IncomingMessage, config: Config): string {
  const configured = config.server.publicUrl;
  if (configured !== undefined) return configured;
  const trust = config.server.trustProxy;
  const host = (trust ? first(req.headers['x-forwarded-host']) : undefined) ?? req.headers.host;
  if (host === undefined || !HOST_RE.test(host)) {
    throw new CountersignError('ECS_BAD_HOST', `cannot build tarball URLs from Host ${JSON.stringify(String(host ?? '')).slice(0, 80)}; set server.publicUrl (or COUNTERSIGN_PUBLIC_URL)`);
  }
  const forwardedProto = trust ? first(req.headers['x-forwarded-proto']) : undefined;
  const proto = forwardedProto === 'https' || forwardedProto === 'http' ? forwardedProto : (req.socket as TLSSocket).encrypted ? 'https' : 'http';
  return `${proto}://${host.toLowerCase()}/`;
}
