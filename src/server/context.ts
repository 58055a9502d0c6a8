import type { ServerResponse } from 'node:http';
import type { CountersignError } from '../errors.js';

export type RouteName = 'packument' | 'manifest' | 'tarball' | 'publish' | 'passthrough' | 'api' | 'ops' | 'other';
export type RouteMode = 'verify' | 'fast' | 'local' | 'public';

/** What the access log line and the request histogram say about one request. */
export interface RequestInfo {
  route: RouteName;
  mode: RouteMode;
  /** hit | miss | stale | revalidated | disk | memory, when a cache was involved. */
  cache?: string;
  error?: CountersignError;
  name?: string;
}

const infos = new WeakMap<ServerResponse, RequestInfo>();

export function requestInfo(res: ServerResponse): RequestInfo {
  let info = infos.get(res);
  if (!info) {
    info = { route: 'other', mode: 'local' };
    infos.set(res, info);
  }
  return info;
}
