import { ServerResponse, type IncomingMessage } from 'node:http';
import type { CountersignError } from '../errors.js';

export type RouteName = 'packument' | 'manifest' | 'tarball' | 'publish' | 'passthrough' | 'api' | 'ops' | 'other';
export type RouteMode = 'verify' | 'fast' | 'local' | 'public';

/** What the access log line and the request histogram say about one request. */
export interface RequestInfo {
  /** The request id (`x-request-id`), once the server assigned it. */
  id?: string;
  route: RouteName;
  mode: RouteMode;
  /** hit | miss | stale | revalidated | disk | memory, when a cache was involved. */
  cache?: string;
  error?: CountersignError;
  name?: string;
}

/**
 * The server's response class: it carries the request's info and arrival time as own fields
 * (they survive express swapping the prototype), so that the hot path needs no WeakMap lookups.
 */
export class CountersignResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  readonly info: RequestInfo = { id: undefined, route: 'other', mode: 'local', cache: undefined, error: undefined, name: undefined };
  /** `performance.now()` when the request arrived. */
  started = 0;
  /** Links of the server's OpenResponses. */
  openPrev: CountersignResponse | undefined = undefined;
  openNext: CountersignResponse | undefined = undefined;
  isOpen = false;
}

/** For responses not created by the server (tests). */
const infos = new WeakMap<ServerResponse, RequestInfo>();

export function requestInfo(res: ServerResponse): RequestInfo {
  const own = (res as Partial<CountersignResponse>).info;
  if (own !== undefined) return own;
  let info = infos.get(res);
  if (!info) {
    info = { route: 'other', mode: 'local' };
    infos.set(res, info);
  }
  return info;
}

/**
 * `x-request-id` on every response. The hot paths (verified packuments and tarballs) put it in
 * their `writeHead` header list, because a header set earlier with `setHeader` sends `writeHead`
 * down its slow merging path; everything else gets it from `setHeader` before it is dispatched.
 */
export const REQUEST_ID_HEADER = 'x-request-id';

export function setRequestIdHeader(res: ServerResponse): void {
  const id = requestInfo(res).id;
  if (id !== undefined && !res.headersSent) res.setHeader(REQUEST_ID_HEADER, id);
}
