import { pipeline, type Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, type Gunzip } from 'node:zlib';
import { Pool, type Dispatcher } from 'undici';
import type { UpstreamConfig } from '../config/types.js';
import { CountersignError } from '../errors.js';
import { upstreamError } from './errors.js';
import { ZLIB_CHUNK_BYTES } from '../zlib-chunk.js';

export const USER_AGENT = 'countersign/0.1 (+https://github.com/countersign/countersign)';

export type UpstreamKind = 'packument' | 'tarball' | 'keys' | 'passthrough';

export interface UpstreamResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Readable;
}

export interface RequestOptions {
  readonly method?: 'GET' | 'HEAD';
  readonly headers?: Record<string, string>;
  /** What is being fetched, for error messages ("the packument of left-pad"). */
  readonly what: string;
  readonly kind: UpstreamKind;
  readonly signal?: AbortSignal;
}

/** Called after every upstream exchange; the server wires it to the upstream latency histogram. */
export type UpstreamObserver = (upstream: string, kind: UpstreamKind, seconds: number, outcome: 'ok' | 'error') => void;

/**
 * One undici Pool per upstream. Requests only ever go to a configured upstream's origin, carrying
 * that upstream's token and nothing from the client.
 */
export class UpstreamClient {
  readonly #pools = new Map<string, Pool>();
  readonly #upstreams: ReadonlyMap<string, UpstreamConfig>;
  readonly #observe: UpstreamObserver;

  constructor(upstreams: ReadonlyMap<string, UpstreamConfig>, observe: UpstreamObserver = () => {}) {
    this.#upstreams = upstreams;
    this.#observe = observe;
    for (const u of upstreams.values()) {
      this.#pools.set(u.name, new Pool(u.origin, {
        connections: u.connections,
        connect: { timeout: u.connectTimeoutMs },
        headersTimeout: u.headersTimeoutMs,
        bodyTimeout: u.bodyIdleTimeoutMs,
        keepAliveTimeout: 30_000,
      }));
    }
  }

  upstream(name: string): UpstreamConfig {
    const u = this.#upstreams.get(name);
    if (!u) throw new CountersignError('ECS_INTERNAL', `no upstream named ${name}`);
    return u;
  }

  /** The configured upstreams whose origin serves `url`, in config order. */
  upstreamsForUrl(url: string): UpstreamConfig[] {
    let origin: string;
    try {
      origin = new URL(url).origin;
    } catch {
      return [];
    }
    return [...this.#upstreams.values()].filter((u) => u.origin === origin);
  }

  /**
   * GETs `url` from `upstream`, which must be that upstream's origin. Resolves once the status line
   * and headers are in; the caller consumes (or destroys) the body.
   */
  async request(upstreamName: string, url: string, options: RequestOptions): Promise<UpstreamResponse> {
    const upstream = this.upstream(upstreamName);
    const target = new URL(url);
    if (target.origin !== upstream.origin) {
      throw new CountersignError('ECS_TARBALL_ORIGIN', `refusing to fetch ${target.origin}: it is not the origin of upstream ${upstream.name}`);
    }
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...options.headers };
    if (upstream.token !== undefined) headers.authorization = `Bearer ${upstream.token}`;
    const started = performance.now();
    const done = (outcome: 'ok' | 'error') => this.#observe(upstream.name, options.kind, (performance.now() - started) / 1000, outcome);
    let response: Dispatcher.ResponseData;
    try {
      response = await this.#pools.get(upstream.name)!.request({
        path: target.pathname + target.search,
        method: options.method ?? 'GET',
        headers,
        signal: options.signal,
      });
    } catch (err) {
      done('error');
      throw upstreamError(err, upstream.name, options.what, false);
    }
    const body = response.body as unknown as Readable;
    body.once('end', () => done(response.statusCode < 500 ? 'ok' : 'error'));
    body.once('error', () => done('error'));
    return { statusCode: response.statusCode, headers: response.headers, body };
  }

  /**
   * Lets requests in flight finish for at most `graceMs`, then aborts what is left: a fetch with no
   * client waiting for it (a packument nobody aborts) must not hold shutdown up to its timeouts.
   */
  async close(graceMs = 0): Promise<void> {
    await Promise.all([...this.#pools.values()].map(async (p) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
      const closed = await Promise.race([p.close().then(() => 'closed' as const, () => 'late' as const), late]);
      clearTimeout(timer);
      if (closed === 'late') await p.destroy().catch(() => undefined);
    }));
  }
}

/** Undoes the upstream's Content-Encoding, so that byte caps apply to what we parse. */
export function decodedBody(response: UpstreamResponse): Readable {
  const encoding = String(response.headers['content-encoding'] ?? 'identity').toLowerCase();
  let decoder: Gunzip | ReturnType<typeof createBrotliDecompress> | undefined;
  if (encoding === 'gzip' || encoding === 'x-gzip') decoder = createGunzip({ chunkSize: ZLIB_CHUNK_BYTES });
  else if (encoding === 'br') decoder = createBrotliDecompress({ chunkSize: ZLIB_CHUNK_BYTES });
  else if (encoding !== 'identity' && encoding !== '') {
    response.body.destroy();
    throw new CountersignError('ECS_UPSTREAM_STATUS', `upstream sent an unsupported Content-Encoding: ${encoding}`);
  }
  if (!decoder) return response.body;
  // pipeline, not pipe: when the reader gives up on the decoder (a cap, a gzip error), the response
  // under it is destroyed too, which releases its upstream connection. A paused, unread response
  // would hold the connection for good: undici's body timeout does not run while it is paused.
  return pipeline(response.body, decoder, () => {});
}

/** Where a body read by `readCapped` can go instead of a list of chunks joined at the end. */
export interface BodySink {
  push(chunk: Buffer): void;
  /** Everything pushed, as one buffer. */
  readonly bytes: Buffer;
}

/**
 * Reads a whole body, refusing more than `maxBytes` (the process never holds more than that).
 * `limit` names the setting that sets the cap, for the message. With `into`, each chunk accepted
 * (under the cap) goes there as it arrives, and the body returned is the sink's.
 */
export async function readCapped(
  body: Readable,
  maxBytes: number,
  upstream: string,
  what: string,
  limit: string,
  options: { readonly into?: BodySink | undefined } = {},
): Promise<Buffer> {
  const { into } = options;
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of body) {
      const buf = chunk as Buffer;
      total += buf.length;
      if (total > maxBytes) {
        body.destroy();
        throw new CountersignError('ECS_UPSTREAM_TOO_LARGE', `${what} from upstream ${upstream} is over the ${maxBytes}-byte cap (${limit})`);
      }
      if (into) into.push(buf);
      else chunks.push(buf);
    }
  } catch (err) {
    throw upstreamError(err, upstream, what, true);
  }
  if (into) return into.bytes;
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}
