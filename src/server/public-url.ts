import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Config } from '../config/types.js';
import { CountersignError } from '../errors.js';
import { assertPackageName, tarballFileName } from '../registry/name.js';
import type { TarballUrl } from '../registry/render.js';

const HOST_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

function first(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return text?.split(',')[0]?.trim() || undefined;
}

/** Bases built from Host headers, by scheme and host as sent: most requests repeat a handful. */
const builtBases = { http: new Map<string, string>(), https: new Map<string, string>() };
/** Distinct hosts remembered per scheme; a client sending endless hosts only empties the memo. */
const MAX_REMEMBERED_HOSTS = 256;

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
  const forwardedProto = trust ? first(req.headers['x-forwarded-proto']) : undefined;
  const proto = forwardedProto === 'https' || forwardedProto === 'http' ? forwardedProto : (req.socket as TLSSocket).encrypted ? 'https' : 'http';
  const memo = builtBases[proto];
  const known = host === undefined ? undefined : memo.get(host);
  if (known !== undefined) return known;
  if (host === undefined || !HOST_RE.test(host)) {
    throw new CountersignError('ECS_BAD_HOST', `cannot build tarball URLs from Host ${JSON.stringify(String(host ?? '')).slice(0, 80)}; set server.publicUrl (or COUNTERSIGN_PUBLIC_URL)`);
  }
  const base = `${proto}://${host.toLowerCase()}/`;
  if (memo.size >= MAX_REMEMBERED_HOSTS) memo.clear();
  memo.set(host, base);
  return base;
}

/** Where clients fetch tarballs of `name` (and of any package it names) from countersign at `base`. */
export function tarballUrlFor(name: string, base: string): TarballUrl {
  const prefix = `${base}${name}/-/${assertPackageName(name).unscoped}-`;
  return (pkg, version) => (pkg === name ? `${prefix}${version}.tgz` : `${base}${pkg}/-/${tarballFileName(pkg, version)}`);
}
