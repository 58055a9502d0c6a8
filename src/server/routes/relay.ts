import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../../config/types.js';
import { redactSecrets } from '../../log.js';
import { upstreamError } from '../../upstream/errors.js';
import { sendError } from '../respond.js';

/** Headers about one connection, not the response; never relayed. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

/** The longest upstream error body passed on; a registry's error is a line of JSON. */
export const ERROR_BODY_MAX = 64 * 1024;

/** Every token in the config: none of them may reach a client. */
export function configuredSecrets(config: Config): string[] {
  return [...config.upstreams.values()].flatMap((u) => (u.token === undefined ? [] : [u.token]));
}

/** Response headers to pass on: no hop-by-hop headers, and no configured token in any value. */
export function relayedHeaders(headers: IncomingHttpHeaders, secrets: readonly string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const clean = (value: string) => secrets.reduce((text, secret) => (secret.length > 0 ? text.split(secret).join('[redacted]') : text), value);
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    out[name] = Array.isArray(value) ? value.map(clean) : clean(value);
  }
  return out;
}

/**
 * Passes an upstream's answer (from http-proxy with selfHandleResponse) to the client. Successes
 * stream through as they are. Error bodies are read, at most ERROR_BODY_MAX of them, and sent
 * without credentials: some servers quote the Authorization they got, and that would be our
 * token. An encoded error body cannot be checked, so it is replaced by a one-line reason.
 */
export function relayUpstreamResponse(proxyRes: IncomingMessage, res: ServerResponse, upstream: string, secrets: readonly string[]): void {
  const status = proxyRes.statusCode ?? 502;
  const headers = relayedHeaders(proxyRes.headers, secrets);
  // A client that goes away must not leave the upstream response paused on its socket.
  res.once('close', () => proxyRes.destroy());
  proxyRes.on('error', (err) => {
    if (res.headersSent) res.destroy(err);
    else sendError(res, upstreamError(err, upstream, 'a proxied request', true));
  });
  if (status < 400) {
    res.writeHead(status, headers);
    proxyRes.pipe(res);
    return;
  }
  delete headers['content-length'];
  const encoding = String(proxyRes.headers['content-encoding'] ?? 'identity').toLowerCase();
  const send = (body: Buffer) => {
    headers['content-length'] = String(body.length);
    res.writeHead(status, headers);
    res.end(body);
  };
  if (encoding !== 'identity') {
    proxyRes.resume();
    delete headers['content-encoding'];
    headers['content-type'] = 'application/json; charset=utf-8';
    send(Buffer.from(JSON.stringify({ error: `upstream ${upstream} answered ${status}` })));
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const finish = (truncated: boolean) => {
    if (res.headersSent || res.destroyed) return;
    const text = redactSecrets(Buffer.concat(chunks, size).toString('utf8'), secrets);
    send(Buffer.from(truncated ? `${text}…` : text, 'utf8'));
  };
  proxyRes.on('data', (chunk: Buffer) => {
    const room = ERROR_BODY_MAX - size;
    chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
    size += Math.min(chunk.length, room);
    if (size >= ERROR_BODY_MAX) {
      finish(true);
      proxyRes.destroy();
    }
  });
  proxyRes.on('end', () => finish(false));
}
