import type { IncomingMessage, ServerResponse } from 'node:http';
import { toCountersignError, type CountersignError } from '../errors.js';
import { REQUEST_ID_HEADER, requestInfo } from './context.js';
import type { Variant } from './variant.js';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  const id = requestInfo(res).id;
  res.writeHead(status, {
    ...(id !== undefined && !res.hasHeader(REQUEST_ID_HEADER) ? { [REQUEST_ID_HEADER]: id } : {}),
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

/**
 * The npm client prints `error` from a JSON body next to the status, so it carries the whole
 * reason in one line; `code` is for scripts.
 */
export function sendError(res: ServerResponse, err: unknown, extra: Record<string, unknown> = {}): CountersignError {
  const error = toCountersignError(err);
  requestInfo(res).error = error;
  if (res.headersSent) {
    // Too late for a status: cut the connection so that the client sees an incomplete body.
    res.destroy(error);
    return error;
  }
  const headers: Record<string, string> = {};
  if (error.status === 405) headers.allow = 'GET, HEAD';
  if (error.status === 401) headers['www-authenticate'] = 'Bearer realm="countersign"';
  sendJson(res, error.status, { error: error.message, code: error.code, ...extra }, headers);
  return error;
}

export function acceptsGzip(req: IncomingMessage): boolean {
  const header = req.headers['accept-encoding'];
  if (typeof header !== 'string') return false;
  return /(?:^|,)\s*gzip\s*(?:;\s*q\s*=\s*(?:1(?:\.0*)?|0?\.\d*[1-9]\d*))?\s*(?:,|$)/i.test(header);
}

export function wantsAbbreviated(req: IncomingMessage): boolean {
  const accept = req.headers.accept;
  return typeof accept === 'string' && accept.includes('application/vnd.npm.install-v1+json') && !/install-v1\+json\s*;\s*q\s*=\s*0(?:\.0*)?\s*(?:,|$)/.test(accept);
}

/** Whether If-None-Match lists an ETag that `current` accepts (weak comparison), or is `*`. */
export function etagMatches(req: IncomingMessage, current: (etag: string) => boolean): boolean {
  const header = req.headers['if-none-match'];
  if (typeof header !== 'string') return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => current(tag.trim().replace(/^W\//, '')));
}

export interface VariantOptions {
  readonly maxAgeSeconds: number;
  readonly extraHeaders?: Record<string, string>;
}

let cacheControlFor = { maxAgeSeconds: -1, value: '' };

function cacheControl(maxAgeSeconds: number): string {
  if (cacheControlFor.maxAgeSeconds !== maxAgeSeconds) {
    cacheControlFor = { maxAgeSeconds, value: `public, max-age=${maxAgeSeconds}, must-revalidate` };
  }
  return cacheControlFor.value;
}

/**
 * Writes a cached packument form: 304 on a matching ETag, gzip when asked, no JSON work. The
 * headers go to `writeHead` as one flat list (its fast path), with the request id.
 */
export function sendVariant(req: IncomingMessage, res: ServerResponse, variant: Variant, options: VariantOptions): void | Promise<void> {
  const gzip = variant.compressible && acceptsGzip(req);
  const headers: Array<string | number> = [
    'content-type', variant.contentType,
    'cache-control', cacheControl(options.maxAgeSeconds),
    'vary', 'Accept, Accept-Encoding',
  ];
  const id = requestInfo(res).id;
  if (id !== undefined) headers.push(REQUEST_ID_HEADER, id);
  if (options.extraHeaders) for (const [name, value] of Object.entries(options.extraHeaders)) headers.push(name, value);
  // Any ETag this form has had in any encoding names the same content: still current.
  if (req.headers['if-none-match'] !== undefined && etagMatches(req, (etag) => (gzip ? variant.isCurrentEtag(etag) : etag === variant.etag))) {
    headers.push('etag', gzip ? variant.gzipEtag : variant.etag);
    res.writeHead(304, headers);
    res.end();
    return;
  }
  if (!gzip) return writeBody(req, res, headers, variant.etag, variant.identity, false);
  const ready = variant.servableGzip();
  if (ready) return writeBody(req, res, headers, ready.etag, ready.body, true);
  return variant.gzip().then((copy) => writeBody(req, res, headers, copy.etag, copy.body, true));
}

function writeBody(req: IncomingMessage, res: ServerResponse, headers: Array<string | number>, etag: string, body: Buffer, gzip: boolean): void {
  headers.push('etag', etag);
  if (gzip) headers.push('content-encoding', 'gzip');
  headers.push('content-length', body.length);
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}
