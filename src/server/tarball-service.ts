import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { LRUCache } from 'lru-cache';
import type { TamperRecords } from '../cache/tamper-records.js';
import type { TarballStore } from '../cache/tarball-store.js';
import type { Config } from '../config/types.js';
import { CountersignError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { VersionFacts } from '../registry/types.js';
import type { UpstreamClient } from '../upstream/client.js';
import { upstreamError } from '../upstream/errors.js';
import { IntegrityHasher } from '../verify/integrity.js';
import type { ExpectedDigest } from '../verify/types.js';
import { REQUEST_ID_HEADER, requestInfo } from './context.js';
import { sendError } from './respond.js';
import type { TarballOrigins } from './tarball-origin.js';

export interface TarballServiceDeps {
  readonly config: Config;
  readonly client: UpstreamClient;
  readonly store: TarballStore;
  readonly metrics: Metrics;
  readonly tamper: TamperRecords;
  /** Called after a tamper record, so that the package's packument is rewritten without the version. */
  readonly onTampered: (facts: VersionFacts) => void;
  readonly origins: TarballOrigins;
}

const TARBALL_HEADERS = {
  'content-type': 'application/octet-stream',
  // A name@version+integrity never changes bytes; whether it may be installed is the packument's job.
  'cache-control': 'public, max-age=31536000, immutable',
};

/**
 * Serves verified tarballs: from memory, from the content-addressed disk store, or from the
 * upstream while hashing. Nothing unverified is ever cached, and a client never receives the whole
 * body of a tarball that does not match its integrity.
 */
export class TarballService {
  readonly #deps: TarballServiceDeps;
  readonly #memory: LRUCache<string, Buffer>;
  readonly #memoryEntryMax: number;

  constructor(deps: TarballServiceDeps) {
    this.#deps = deps;
    this.#memory = new LRUCache<string, Buffer>({
      maxSize: Math.max(1, deps.config.tarballs.memoryCacheBytes),
      sizeCalculation: (buf) => Math.max(1, buf.length),
    });
    this.#memoryEntryMax = Math.floor(deps.config.tarballs.memoryCacheBytes / 8);
  }

  /** `ruleUpstream` is the upstream of the verify rule that allowed the version. */
  async serve(req: IncomingMessage, res: ServerResponse, facts: VersionFacts, expected: ExpectedDigest, log: Logger, ruleUpstream: string): Promise<void> {
    const info = requestInfo(res);
    const cacheable = expected.algorithm === 'sha512';
    const etag = `"${expected.algorithm}-${expected.hex.slice(0, 32)}"`;
    if (cacheable) {
      const inMemory = this.#memory.get(expected.hex);
      if (inMemory) {
        info.cache = 'memory';
        this.#deps.metrics.cacheRequests.inc({ cache: 'tarball-memory', result: 'hit' });
        return this.#sendBuffer(req, res, inMemory, etag);
      }
      this.#deps.metrics.cacheRequests.inc({ cache: 'tarball-memory', result: 'miss' });
      if (this.#deps.store.has(expected.hex)) {
        info.cache = 'disk';
        this.#deps.metrics.cacheRequests.inc({ cache: 'tarball-disk', result: 'hit' });
        if (await this.#sendFromDisk(req, res, expected.hex, etag)) return;
      } else {
        this.#deps.metrics.cacheRequests.inc({ cache: 'tarball-disk', result: 'miss' });
      }
    }
    info.cache = 'miss';
    return this.#fetchAndVerify(req, res, facts, expected, etag, log, ruleUpstream);
  }

  #sendBuffer(req: IncomingMessage, res: ServerResponse, body: Buffer, etag: string): void {
    // A flat list is writeHead's fast path (a cached tarball is a hot path).
    const headers: Array<string | number> = ['content-type', TARBALL_HEADERS['content-type'], 'cache-control', TARBALL_HEADERS['cache-control'], 'etag', etag, 'content-length', body.length];
    const id = requestInfo(res).id;
    if (id !== undefined) headers.push(REQUEST_ID_HEADER, id);
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  /** False when the file vanished (evicted, deleted by hand): the caller fetches it again. */
  async #sendFromDisk(req: IncomingMessage, res: ServerResponse, hex: string, etag: string): Promise<boolean> {
    const size = this.#deps.store.sizeOf(hex);
    const stream = this.#deps.store.read(hex);
    if (!stream || size === undefined) return false;
    if (size <= this.#memoryEntryMax) {
      const chunks: Buffer[] = [];
      try {
        for await (const chunk of stream) chunks.push(chunk as Buffer);
      } catch {
        this.#deps.store.forget(hex);
        return false;
      }
      const body = Buffer.concat(chunks);
      this.#memory.set(hex, body);
      this.#sendBuffer(req, res, body, etag);
      return true;
    }
    const opened = await new Promise<boolean>((resolve) => {
      stream.once('open', () => resolve(true));
      stream.once('error', () => resolve(false));
    });
    if (!opened) {
      this.#deps.store.forget(hex);
      return false;
    }
    res.writeHead(200, { ...withRequestId(res), ...TARBALL_HEADERS, etag, 'content-length': size });
    if (req.method === 'HEAD') {
      stream.destroy();
      res.end();
      return true;
    }
    stream.on('error', (err) => res.destroy(err));
    stream.pipe(res);
    return true;
  }

  async #fetchAndVerify(req: IncomingMessage, res: ServerResponse, facts: VersionFacts, expected: ExpectedDigest, etag: string, log: Logger, ruleUpstream: string): Promise<void> {
    const { config, client, metrics } = this.#deps;
    const url = facts.tarball;
    const origin = this.#deps.origins.resolve(url, ruleUpstream);
    if (url === undefined || 'refused' in origin) {
      metrics.tarballsBlocked.inc({ reason: 'tarball-origin' });
      const why = 'refused' in origin ? origin.refused : 'it has no dist.tarball';
      throw new CountersignError('ECS_TARBALL_ORIGIN', `${facts.name}@${facts.version}: ${why}; countersign fetches tarballs only from its upstreams`);
    }
    const { upstream } = origin;
    const what = `the tarball of ${facts.name}@${facts.version}`;
    const abort = new AbortController();
    const onClose = () => abort.abort();
    res.once('close', onClose);
    try {
      const response = await client.request(upstream.name, url, { what, kind: 'tarball', signal: abort.signal, headers: { accept: 'application/octet-stream' } });
      if (response.statusCode !== 200) {
        response.body.resume();
        if (response.statusCode === 404) throw new CountersignError('ECS_NOT_FOUND', `${what} is missing from upstream ${upstream.name}`);
        throw new CountersignError('ECS_UPSTREAM_STATUS', `upstream ${upstream.name} answered ${response.statusCode} for ${what}`);
      }
      const declaredHeader = response.headers['content-length'];
      const declared = typeof declaredHeader === 'string' && /^\d+$/.test(declaredHeader) ? Number(declaredHeader) : undefined;
      if (declared !== undefined && declared > config.tarballs.maxSizeBytes) {
        response.body.destroy();
        throw new CountersignError('ECS_UPSTREAM_TOO_LARGE', `${what} is ${declared} bytes, over the ${config.tarballs.maxSizeBytes}-byte cap (tarballs.maxSize)`);
      }
      if (response.headers['content-encoding'] !== undefined && response.headers['content-encoding'] !== 'identity') {
        response.body.destroy();
        throw new CountersignError('ECS_UPSTREAM_STATUS', `upstream ${upstream.name} sent ${what} with Content-Encoding ${String(response.headers['content-encoding'])}; tarballs must come as stored`);
      }
      await this.#relay(req, res, response.body, { facts, expected, etag, declared, what, upstream: upstream.name, log });
    } finally {
      res.off('close', onClose);
    }
  }

  /**
   * Hashes the body as it arrives. Small bodies are held whole and sent only once verified, so a
   * mismatch is a clean 502 that npm prints. Larger ones are streamed with the last chunk held
   * back until the digest matches; on a mismatch the connection is cut short of the end.
   */
  async #relay(
    req: IncomingMessage,
    res: ServerResponse,
    body: Readable,
    job: { facts: VersionFacts; expected: ExpectedDigest; etag: string; declared: number | undefined; what: string; upstream: string; log: Logger },
  ): Promise<void> {
    const { config, store, metrics } = this.#deps;
    const hasher = new IntegrityHasher(job.expected);
    const writer = job.expected.algorithm === 'sha512' ? store.writer(job.expected.hex) : undefined;
    const holdWhole = config.tarballs.verifyBeforeSendBelowBytes;
    const chunks: Buffer[] = [];
    let held: Buffer | undefined;
    let streaming = false;
    let total = 0;
    const started = performance.now();

    const startStreaming = () => {
      streaming = true;
      const headers: Record<string, string | number> = { ...withRequestId(res), ...TARBALL_HEADERS, etag: job.etag };
      if (job.declared !== undefined) headers['content-length'] = job.declared;
      res.writeHead(200, headers);
      res.flushHeaders();
      // Everything buffered so far but its last chunk goes out now.
      held = chunks.pop();
      for (const c of chunks) res.write(c);
      chunks.length = 0;
    };

    try {
      for await (const piece of body) {
        const chunk = piece as Buffer;
        total += chunk.length;
        if (total > config.tarballs.maxSizeBytes) {
          throw new CountersignError('ECS_UPSTREAM_TOO_LARGE', `${job.what} is over the ${config.tarballs.maxSizeBytes}-byte cap (tarballs.maxSize)`);
        }
        hasher.update(chunk);
        writer?.write(chunk);
        if (!streaming) {
          if (req.method === 'HEAD') continue; // hashed and cached, never held
          chunks.push(chunk);
          if (total > holdWhole) startStreaming();
          continue;
        }
        if (held && !res.write(held)) await waitForDrain(res);
        held = chunk;
      }
    } catch (err) {
      await writer?.abort();
      const error = err instanceof CountersignError ? err : upstreamError(err, job.upstream, job.what, true);
      if (res.destroyed) return;
      throw error;
    }

    metrics.verificationDuration.observe({ check: 'integrity' }, (performance.now() - started) / 1000);
    if (!hasher.matches()) {
      await writer?.abort();
      metrics.tarballsBlocked.inc({ reason: 'integrity' });
      this.#deps.tamper.record(job.facts);
      this.#deps.onTampered(job.facts);
      const error = new CountersignError(
        'ECS_INTEGRITY_MISMATCH',
        `${job.what} from upstream ${job.upstream} does not match its published integrity (${job.expected.algorithm} ${hasher.digestHex().slice(0, 16)}… instead of ${job.expected.hex.slice(0, 16)}…); it was not delivered and the version is now hidden`,
        { details: { name: job.facts.name, version: job.facts.version, upstream: job.upstream } },
      );
      job.log.error({ err: error, name: job.facts.name, version: job.facts.version, code: error.code }, 'tarball integrity mismatch: possible tampering');
      if (streaming) {
        sendError(res, error); // headers are out: this cuts the connection
        return;
      }
      throw error;
    }

    const committed = writer ? writer.commit() : Promise.resolve(false);
    if (streaming) {
      res.end(held);
    } else if (req.method === 'HEAD') {
      res.writeHead(200, { ...withRequestId(res), ...TARBALL_HEADERS, etag: job.etag, 'content-length': total });
      res.end();
    } else {
      const whole = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
      if (job.expected.algorithm === 'sha512' && whole.length <= this.#memoryEntryMax) this.#memory.set(job.expected.hex, whole);
      this.#sendBuffer(req, res, whole, job.etag);
    }
    if (!(await committed) && writer) job.log.warn({ name: job.facts.name, version: job.facts.version }, 'verified tarball served but not cached (disk write failed)');
  }
}

function withRequestId(res: ServerResponse): Record<string, string> {
  const id = requestInfo(res).id;
  return id === undefined ? {} : { [REQUEST_ID_HEADER]: id };
}

function waitForDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
