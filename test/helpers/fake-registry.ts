import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { TestRegistryKey } from './registry-key.js';
import { packTarballs, type PackageSpec } from './tarballs.js';

/** How the fake signs (or fails to sign) a version. */
export type SignMode = 'valid' | 'none' | 'invalid' | 'other-key';

export interface FakeVersion extends PackageSpec {
  readonly publishedAt?: Date;
  readonly sign?: SignMode;
  /** Serve bytes that do not match dist.integrity. */
  readonly tamper?: boolean;
  readonly deprecated?: string;
  readonly tags?: readonly string[];
}

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  /** Request body bytes received so far (PUT and POST bodies are read to the end). */
  readonly bodyBytes: number;
  /** The request body arrived whole. */
  readonly bodyComplete: boolean;
  /** The client closed the connection before the request body ended. */
  readonly aborted: boolean;
}

/** A failure injected on paths matching `path`. */
export type Fault =
  | { readonly kind: 'status'; readonly status: number }
  | { readonly kind: 'reset' } // destroy the socket before answering
  | { readonly kind: 'reset-body' } // send headers and half the body, then destroy
  | { readonly kind: 'hang-headers' }
  | { readonly kind: 'hang-body' } // send headers and a little body, then nothing
  | { readonly kind: 'body'; readonly body: string | Buffer; readonly contentType?: string; readonly contentEncoding?: string }
  /** The normal answer, its body sent in pieces spread over `ms`. */
  | { readonly kind: 'slow-body'; readonly ms: number }
  /** `bytes` of a never-ending JSON string, streamed with backpressure; gzip sends a bomb of small members. */
  | { readonly kind: 'huge-body'; readonly bytes: number; readonly declareLength?: boolean; readonly gzip?: boolean }
  /** A status whose body quotes the request's Authorization header, as careless servers do. */
  | { readonly kind: 'echo-auth'; readonly status: number };

interface Answer {
  readonly status: number;
  readonly headers: OutgoingHttpHeaders;
  readonly body: Buffer;
}

type MutableRecord = { -readonly [K in keyof RecordedRequest]: RecordedRequest[K] };

interface StoredVersion {
  manifest: Record<string, unknown>;
  tarball: Buffer;
  publishedAt: Date;
}

/**
 * A registry on 127.0.0.1:0 that serves packuments and real `npm pack` tarballs, signed with the
 * test's own ECDSA key, and the key itself at `/-/npm/v1/keys`. It records every request, so tests
 * can assert what countersign sent (and that it sent nothing it should not).
 */
export class FakeRegistry {
  readonly requests: RecordedRequest[] = [];
  readonly #packages = new Map<string, Map<string, StoredVersion>>();
  readonly #tags = new Map<string, Map<string, string>>();
  readonly #faults: Array<{ path: RegExp; fault: Fault; remaining: number }> = [];
  #chaos: { path: RegExp; faults: readonly Fault[]; probability: number; random: () => number } | undefined;
  readonly #overrides = new Map<string, unknown>();
  readonly #sockets = new Set<Socket>();
  readonly #server: Server;
  readonly #key: TestRegistryKey | undefined;
  readonly #otherKey: TestRegistryKey | undefined;
  /** When set, requests must carry `Authorization: Bearer <token>` or get 401. */
  requiredToken: string | undefined;
  /** Serve `/-/npm/v1/keys` (a mirror would not). */
  serveKeys = true;
  url = '';

  private constructor(key: TestRegistryKey | undefined, otherKey: TestRegistryKey | undefined) {
    this.#key = key;
    this.#otherKey = otherKey;
    this.#server = createServer((req, res) => this.#handle(req, res));
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(options: { key?: TestRegistryKey; otherKey?: TestRegistryKey } = {}): Promise<FakeRegistry> {
    const registry = new FakeRegistry(options.key, options.otherKey);
    await new Promise<void>((resolve) => registry.#server.listen(0, '127.0.0.1', resolve));
    registry.url = `http://127.0.0.1:${(registry.#server.address() as AddressInfo).port}/`;
    return registry;
  }

  /** Packs and publishes versions (all of one call share one `npm pack` run). */
  async publish(versions: readonly FakeVersion[]): Promise<void> {
    const tarballs = await packTarballs(versions);
    for (const v of versions) {
      const bytes = tarballs.get(`${v.name}@${v.version}`)!;
      const integrity = `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
      const unscoped = v.name.includes('/') ? v.name.split('/')[1]! : v.name;
      const dist: Record<string, unknown> = {
        integrity,
        shasum: createHash('sha1').update(bytes).digest('hex'),
        tarball: `${this.url}${v.name}/-/${unscoped}-${v.version}.tgz`,
      };
      const mode = v.sign ?? (this.#key ? 'valid' : 'none');
      if (mode !== 'none') {
        const signer = mode === 'other-key' ? this.#otherKey : this.#key;
        if (!signer) throw new Error(`sign: ${mode} needs a key`);
        const signature = signer.sign(v.name, v.version, integrity);
        dist.signatures = [mode === 'invalid' ? { keyid: signature.keyid, sig: signer.signMessage(`${v.name}@${v.version}:sha512-forged`) } : signature];
      }
      const manifest: Record<string, unknown> = {
        name: v.name,
        version: v.version,
        main: 'index.js',
        ...(v.dependencies ? { dependencies: v.dependencies } : {}),
        ...(v.deprecated ? { deprecated: v.deprecated } : {}),
        _id: `${v.name}@${v.version}`,
        dist,
      };
      // A tampered tarball: same length, one byte flipped in the middle.
      const served = v.tamper ? Buffer.from(bytes) : bytes;
      if (v.tamper) served[served.length >> 1] = served[served.length >> 1]! ^ 0xff;
      let pkg = this.#packages.get(v.name);
      if (!pkg) this.#packages.set(v.name, (pkg = new Map()));
      pkg.set(v.version, { manifest, tarball: served, publishedAt: v.publishedAt ?? new Date('2024-01-01T00:00:00.000Z') });
      let tags = this.#tags.get(v.name);
      if (!tags) this.#tags.set(v.name, (tags = new Map()));
      for (const tag of v.tags ?? []) tags.set(tag, v.version);
    }
    for (const [name, pkg] of this.#packages) {
      const tags = this.#tags.get(name)!;
      if (!tags.has('latest')) tags.set('latest', [...pkg.keys()].at(-1)!);
    }
  }

  /** Tarball bytes as published (tampered ones included). */
  tarball(name: string, version: string): Buffer | undefined {
    return this.#packages.get(name)?.get(version)?.tarball;
  }

  setDistTag(name: string, tag: string, version: string): void {
    this.#tags.get(name)?.set(tag, version);
  }

  /** Serve this JSON (or text) as the packument of `name`, instead of the generated one. */
  overridePackument(name: string, doc: unknown): void {
    this.#overrides.set(name, doc);
  }

  packument(name: string): Record<string, unknown> | undefined {
    const pkg = this.#packages.get(name);
    if (!pkg) return undefined;
    const versions: Record<string, unknown> = {};
    const time: Record<string, string> = {};
    let created = Infinity;
    let modified = 0;
    for (const [version, stored] of pkg) {
      versions[version] = stored.manifest;
      time[version] = stored.publishedAt.toISOString();
      created = Math.min(created, stored.publishedAt.getTime());
      modified = Math.max(modified, stored.publishedAt.getTime());
    }
    return {
      _id: name,
      name,
      'dist-tags': Object.fromEntries(this.#tags.get(name) ?? []),
      versions,
      time: { created: new Date(created).toISOString(), modified: new Date(modified).toISOString(), ...time },
      description: `countersign test package ${name}`,
      readme: `# ${name}`,
    };
  }

  /** Inject a fault on matching paths, `times` times (default: until cleared). */
  fault(path: RegExp, fault: Fault, times = Number.POSITIVE_INFINITY): void {
    this.#faults.push({ path, fault, remaining: times });
  }

  /**
   * On paths matching `path`, answer with one of `faults` (picked with `random`) with the given
   * probability, for as long as it is set. `random` is the test's seeded generator.
   */
  chaos(path: RegExp, faults: readonly Fault[], probability: number, random: () => number): void {
    this.#chaos = { path, faults, probability, random };
  }

  clearFaults(): void {
    this.#faults.length = 0;
    this.#chaos = undefined;
  }

  requestsTo(path: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => path.test(r.url));
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const record: MutableRecord = { method: req.method ?? 'GET', url, headers: req.headers, bodyBytes: 0, bodyComplete: false, aborted: false };
    this.requests.push(record);
    req.on('data', (chunk: Buffer) => (record.bodyBytes += chunk.length));
    req.on('close', () => (record.aborted = !record.bodyComplete && !req.complete));
    req.on('error', () => undefined);
    const injected = this.#faults.find((f) => f.path.test(url) && f.remaining > 0);
    if (injected) {
      injected.remaining--;
      return this.#applyFault(injected.fault, req, res);
    }
    const chaos = this.#chaos;
    if (chaos && chaos.path.test(url) && chaos.random() < chaos.probability) {
      return this.#applyFault(chaos.faults[Math.floor(chaos.random() * chaos.faults.length)]!, req, res);
    }
    // Bodies are read to the end before answering, so tests can tell what arrived.
    req.on('end', () => {
      record.bodyComplete = true;
      send(res, this.#answer(req));
    });
  }

  /** The answer of a healthy registry. */
  #answer(req: IncomingMessage): Answer {
    const url = req.url ?? '/';
    if (this.requiredToken !== undefined && req.headers.authorization !== `Bearer ${this.requiredToken}`) {
      return jsonAnswer(401, { error: 'authentication required' });
    }
    const path = decodeURIComponent(url.split('?')[0]!);
    if (path === '/-/npm/v1/keys') {
      if (!this.serveKeys || !this.#key) return jsonAnswer(404, { error: 'not found' });
      return jsonAnswer(200, { keys: [this.#key.entry(), ...(this.#otherKey ? [] : [])] });
    }
    if (path === '/-/ping') return jsonAnswer(200, {});
    if (path === '/-/v1/search') return jsonAnswer(200, { objects: [], total: 0, time: new Date().toISOString() });
    if (path.startsWith('/-/npm/v1/security/')) return jsonAnswer(200, {});
    if (req.method === 'PUT') return jsonAnswer(201, { ok: true });
    const tarball = /^\/(.+)\/-\/[^/]+-(\d+\.\d+\.\d+[^/]*)\.tgz$/.exec(path);
    if (tarball) {
      const stored = this.#packages.get(tarball[1]!)?.get(tarball[2]!);
      if (!stored) return jsonAnswer(404, { error: 'not found' });
      return { status: 200, headers: { 'content-type': 'application/octet-stream', 'content-length': stored.tarball.length }, body: stored.tarball };
    }
    const name = path.slice(1);
    const override = this.#overrides.get(name);
    const doc = override ?? this.packument(name);
    if (doc === undefined) return jsonAnswer(404, { error: 'not found' });
    const body = Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc), 'utf8');
    const etag = `"${createHash('sha1').update(body).digest('hex')}"`;
    if (req.headers['if-none-match'] === etag) return { status: 304, headers: { etag }, body: Buffer.alloc(0) };
    return { status: 200, headers: { 'content-type': 'application/json', etag, 'content-length': body.length }, body };
  }

  #applyFault(fault: Fault, req: IncomingMessage, res: ServerResponse): void {
    switch (fault.kind) {
      case 'status':
        return send(res, jsonAnswer(fault.status, { error: `injected ${fault.status}` }));
      case 'reset':
        res.socket?.destroy();
        return;
      case 'reset-body':
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 100_000 });
        res.write(Buffer.alloc(50_000, 1));
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      case 'hang-headers':
        return; // never answers; closed with the server
      case 'hang-body':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': 100_000 });
        res.write('{"name":');
        return;
      case 'body':
        res.writeHead(200, { 'content-type': fault.contentType ?? 'application/json', ...(fault.contentEncoding ? { 'content-encoding': fault.contentEncoding } : {}) });
        res.end(fault.body);
        return;
      case 'slow-body':
        return void req.on('end', () => sendSlowly(res, this.#answer(req), fault.ms)).resume();
      case 'huge-body':
        return streamHuge(res, fault.bytes, fault.declareLength === true, fault.gzip === true);
      case 'echo-auth':
        return send(res, jsonAnswer(fault.status, { error: `bad credentials: ${String(req.headers.authorization ?? '(none)')}` }));
    }
  }
}

function jsonAnswer(status: number, body: unknown): Answer {
  const text = Buffer.from(JSON.stringify(body), 'utf8');
  return { status, headers: { 'content-type': 'application/json', 'content-length': text.length }, body: text };
}

function send(res: ServerResponse, answer: Answer): void {
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}

function sendSlowly(res: ServerResponse, answer: Answer, ms: number): void {
  const pieces = Math.max(1, Math.min(10, answer.body.length));
  const size = Math.ceil(answer.body.length / pieces);
  res.writeHead(answer.status, answer.headers);
  let sent = 0;
  const next = () => {
    if (res.destroyed) return;
    const piece = answer.body.subarray(sent, sent + size);
    sent += piece.length;
    if (sent >= answer.body.length) return void res.end(piece);
    res.write(piece);
    setTimeout(next, ms / pieces);
  };
  setTimeout(next, ms / pieces);
}

/** One gzip member inflating to 1 MiB of spaces; members concatenate into a bomb of any size. */
let bombMember: Buffer | undefined;

function streamHuge(res: ServerResponse, bytes: number, declareLength: boolean, gzip: boolean): void {
  const headers: OutgoingHttpHeaders = { 'content-type': 'application/json' };
  let chunks: Buffer[];
  if (gzip) {
    headers['content-encoding'] = 'gzip';
    bombMember ??= gzipSync(Buffer.alloc(1 << 20, 0x20), { level: 9 });
    chunks = [gzipSync(Buffer.from('{"name":"')), ...Array.from({ length: Math.ceil(bytes / (1 << 20)) }, () => bombMember!)];
  } else {
    const filler = Buffer.alloc(64 * 1024, 0x61);
    chunks = [Buffer.from('{"name":"'), ...Array.from({ length: Math.ceil(bytes / filler.length) }, () => filler)];
  }
  if (declareLength) headers['content-length'] = chunks.reduce((n, c) => n + c.length, 0);
  res.writeHead(200, headers);
  let i = 0;
  const pump = () => {
    while (i < chunks.length && !res.destroyed) {
      if (!res.write(chunks[i++]!)) return void res.once('drain', pump);
    }
    if (!res.destroyed) res.end();
  };
  res.on('error', () => undefined);
  pump();
}
