import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
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
}

/** A failure injected on paths matching `path`. */
export type Fault =
  | { readonly kind: 'status'; readonly status: number }
  | { readonly kind: 'reset' } // destroy the socket before answering
  | { readonly kind: 'reset-body' } // send headers and half the body, then destroy
  | { readonly kind: 'hang-headers' }
  | { readonly kind: 'hang-body' } // send headers and a little body, then nothing
  | { readonly kind: 'body'; readonly body: string | Buffer; readonly contentType?: string };

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

  clearFaults(): void {
    this.#faults.length = 0;
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
    this.requests.push({ method: req.method ?? 'GET', url, headers: req.headers });
    const injected = this.#faults.find((f) => f.path.test(url) && f.remaining > 0);
    if (injected) {
      injected.remaining--;
      return this.#applyFault(injected.fault, req, res);
    }
    if (this.requiredToken !== undefined && req.headers.authorization !== `Bearer ${this.requiredToken}`) {
      return json(res, 401, { error: 'authentication required' });
    }
    const path = decodeURIComponent(url.split('?')[0]!);
    if (path === '/-/npm/v1/keys') {
      if (!this.serveKeys || !this.#key) return json(res, 404, { error: 'not found' });
      return json(res, 200, { keys: [this.#key.entry(), ...(this.#otherKey ? [] : [])] });
    }
    if (path === '/-/ping') return json(res, 200, {});
    if (path === '/-/v1/search') return json(res, 200, { objects: [], total: 0, time: new Date().toISOString() });
    if (path.startsWith('/-/npm/v1/security/')) return json(res, 200, {});
    if (req.method === 'PUT') {
      req.resume();
      return json(res, 201, { ok: true });
    }
    const tarball = /^\/(.+)\/-\/[^/]+-(\d+\.\d+\.\d+[^/]*)\.tgz$/.exec(path);
    if (tarball) {
      const stored = this.#packages.get(tarball[1]!)?.get(tarball[2]!);
      if (!stored) return json(res, 404, { error: 'not found' });
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': stored.tarball.length });
      return void res.end(stored.tarball);
    }
    const name = path.slice(1);
    const override = this.#overrides.get(name);
    const doc = override ?? this.packument(name);
    if (doc === undefined) return json(res, 404, { error: 'not found' });
    const body = typeof doc === 'string' ? doc : JSON.stringify(doc);
    const etag = `"${createHash('sha1').update(body).digest('hex')}"`;
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag });
      return void res.end();
    }
    res.writeHead(200, { 'content-type': 'application/json', etag, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  #applyFault(fault: Fault, _req: IncomingMessage, res: ServerResponse): void {
    switch (fault.kind) {
      case 'status':
        return json(res, fault.status, { error: `injected ${fault.status}` });
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
        res.writeHead(200, { 'content-type': fault.contentType ?? 'application/json' });
        res.end(fault.body);
        return;
    }
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
