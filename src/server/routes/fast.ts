import { Agent as HttpAgent, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import httpProxy from 'http-proxy';
import type { Config, UpstreamConfig } from '../../config/types.js';
import { CountersignError } from '../../errors.js';
import type { FastRule } from '../../policy/types.js';
import { upstreamError } from '../../upstream/errors.js';
import { USER_AGENT } from '../../upstream/client.js';
import { requestInfo } from '../context.js';
import { publicBase } from '../public-url.js';
import { cappedBody, keepHeaders } from '../body-limit.js';
import { sendError } from '../respond.js';
import { configuredSecrets, relayUpstreamResponse } from './relay.js';

/** Response headers that describe the upstream's framing, not the body we send. */
const HOP_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'content-encoding']);

interface Pending {
  readonly rule: FastRule;
  readonly upstream: UpstreamConfig;
  readonly base: string;
}

/**
 * Fast scopes: requests pass straight to the scope's own registry through http-proxy, with that
 * registry's token (or the client's, when the rule says `forwardAuth`). Packuments are not
 * verified, but their tarball URLs are repointed at us by plain text replacement, because clients
 * hold no credentials for the internal registry. A 404 from it stays a 404: a fast-scope name never
 * resolves anywhere else.
 */
export class FastScopeProxy {
  readonly #config: Config;
  readonly #rewriting = httpProxy.createProxyServer({ selfHandleResponse: true, ignorePath: true, changeOrigin: true, xfwd: false });
  readonly #piping = httpProxy.createProxyServer({ selfHandleResponse: true, ignorePath: true, changeOrigin: true, xfwd: false });
  readonly #agents = new Map<string, HttpAgent>();
  readonly #pending = new WeakMap<IncomingMessage, Pending>();
  readonly #secrets: readonly string[];

  constructor(config: Config) {
    this.#config = config;
    this.#secrets = configuredSecrets(config);
    for (const u of config.upstreams.values()) {
      const options = { keepAlive: true, maxSockets: u.connections };
      this.#agents.set(u.name, u.url.startsWith('https:') ? new HttpsAgent(options) : new HttpAgent(options));
    }
    for (const proxy of [this.#rewriting, this.#piping]) {
      proxy.on('error', (err, req, res) => {
        const pending = this.#pending.get(req);
        const error = upstreamError(err, pending?.upstream.name ?? 'fast', `${req.method} ${req.url ?? ''}`, false);
        if ('writeHead' in res) sendError(res as ServerResponse, error);
        else res.destroy();
      });
    }
    this.#rewriting.on('proxyRes', (proxyRes, req, res) => this.#rewrite(proxyRes, req, res));
    this.#piping.on('proxyRes', (proxyRes, req, res) => relayUpstreamResponse(proxyRes, res, this.#pending.get(req)?.upstream.name ?? 'fast', this.#secrets));
  }

  /** Proxies one request for a name in a fast scope. `packument` asks for tarball URL rewriting. */
  handle(req: IncomingMessage, res: ServerResponse, rule: FastRule, packument: boolean): void {
    const upstream = this.#config.upstreams.get(rule.upstream)!;
    const info = requestInfo(res);
    info.mode = 'fast';
    const base = publicBase(req, this.#config);
    this.#pending.set(req, { rule, upstream, base });
    // Publishes carry whole tarballs in JSON; the cap keeps one client from filling memory.
    const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : cappedBody(req, res, this.#config.server.maxRequestBodyBytes);
    // Set on the request itself, before http-proxy copies the headers.
    keepHeaders(req, (name) => name !== 'cookie' && (rule.forwardAuth || name !== 'authorization'));
    if (!rule.forwardAuth && upstream.token !== undefined) req.headers.authorization = `Bearer ${upstream.token}`;
    req.headers['user-agent'] ??= USER_AGENT;
    const target = upstream.url + (req.url ?? '/').slice(1);
    const options = {
      target,
      agent: this.#agents.get(upstream.name),
      proxyTimeout: upstream.bodyIdleTimeoutMs,
      timeout: this.#config.server.requestTimeoutMs,
      ...(packument && req.method === 'GET' ? { headers: { 'accept-encoding': 'identity' } } : {}),
      ...(body ? { buffer: body } : {}),
    };
    if (packument && req.method === 'GET') this.#rewriting.web(req, res, options);
    else this.#piping.web(req, res, options);
  }

  close(): void {
    this.#rewriting.close();
    this.#piping.close();
    for (const agent of this.#agents.values()) agent.destroy();
  }

  #rewrite(proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse): void {
    const pending = this.#pending.get(req)!;
    const headers: Record<string, string | string[]> = {};
    for (const [key, value] of Object.entries(proxyRes.headers)) {
      if (value !== undefined && !HOP_HEADERS.has(key)) headers[key] = value;
    }
    const encoding = proxyRes.headers['content-encoding'];
    if (proxyRes.statusCode !== 200 || (encoding !== undefined && encoding !== 'identity')) {
      // Not a body we can rewrite as text: pass it on (error bodies without credentials).
      relayUpstreamResponse(proxyRes, res, pending.upstream.name, this.#secrets);
      return;
    }
    const cap = this.#config.packuments.maxSizeBytes;
    const chunks: Buffer[] = [];
    let size = 0;
    proxyRes.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > cap) {
        proxyRes.destroy();
        sendError(res, new CountersignError('ECS_UPSTREAM_TOO_LARGE', `packument from upstream ${pending.upstream.name} is over the ${cap}-byte cap (packuments.maxSize)`));
        return;
      }
      chunks.push(chunk);
    });
    proxyRes.on('error', (err) => sendError(res, upstreamError(err, pending.upstream.name, 'a fast-scope packument', true)));
    proxyRes.on('end', () => {
      if (res.headersSent || size > cap) return;
      const body = Buffer.from(Buffer.concat(chunks, size).toString('utf8').split(pending.upstream.url).join(pending.base), 'utf8');
      headers['content-length'] = String(body.length);
      res.writeHead(200, headers);
      res.end(body);
    });
  }
}
