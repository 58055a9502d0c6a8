import { Agent as HttpAgent, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import httpProxy from 'http-proxy';
import type { Config, UpstreamConfig } from '../../config/types.js';
import { USER_AGENT } from '../../upstream/client.js';
import { upstreamError } from '../../upstream/errors.js';
import { requestInfo } from '../context.js';
import { cappedBody, keepHeaders } from '../body-limit.js';
import { sendError } from '../respond.js';
import { configuredSecrets, relayUpstreamResponse } from './relay.js';

/** Registry-wide endpoints npm calls that carry nothing to verify: search, audit, ping. */
const PASSTHROUGH: ReadonlyArray<{ method: string; path: RegExp }> = [
  { method: 'GET', path: /^\/-\/v1\/search$/ },
  { method: 'GET', path: /^\/-\/ping$/ },
  { method: 'POST', path: /^\/-\/npm\/v1\/security\/advisories\/bulk$/ },
  { method: 'POST', path: /^\/-\/npm\/v1\/security\/audits(?:\/quick)?$/ },
];

/** Only these client headers reach the public upstream; credentials and cookies never do. */
const FORWARDED = new Set(['accept', 'accept-encoding', 'content-type', 'content-length', 'content-encoding', 'npm-command', 'npm-in-ci']);

export function isPassthrough(method: string, path: string): boolean {
  return PASSTHROUGH.some((p) => (p.method === method || (method === 'HEAD' && p.method === 'GET')) && p.path.test(path));
}

/** The public upstream: the one behind the catch-all verify rule, else the first configured. */
export function publicUpstream(config: Config): UpstreamConfig {
  const catchAll = config.policy.rules.find((r) => r.mode === 'verify' && r.match.includes('**'));
  return config.upstreams.get(catchAll?.upstream ?? [...config.upstreams.keys()][0]!)!;
}

export class PublicPassthrough {
  readonly #config: Config;
  readonly #upstream: UpstreamConfig;
  readonly #proxy = httpProxy.createProxyServer({ selfHandleResponse: true, ignorePath: true, changeOrigin: true, xfwd: false });
  readonly #agent: HttpAgent;

  constructor(config: Config) {
    this.#config = config;
    this.#upstream = publicUpstream(config);
    const options = { keepAlive: true, maxSockets: this.#upstream.connections };
    this.#agent = this.#upstream.url.startsWith('https:') ? new HttpsAgent(options) : new HttpAgent(options);
    const secrets = configuredSecrets(config);
    this.#proxy.on('proxyRes', (proxyRes, _req, res) => relayUpstreamResponse(proxyRes, res, this.#upstream.name, secrets));
    this.#proxy.on('error', (err, _req, res) => {
      const error = upstreamError(err, this.#upstream.name, 'a passthrough request', false);
      if ('writeHead' in res) sendError(res as ServerResponse, error);
      else res.destroy();
    });
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const info = requestInfo(res);
    info.route = 'passthrough';
    info.mode = 'public';
    const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : cappedBody(req, res, this.#config.server.maxRequestBodyBytes);
    // Stripped on the request itself, before http-proxy copies the headers: credentials and
    // cookies of the client never reach the public upstream.
    keepHeaders(req, (name) => FORWARDED.has(name));
    req.headers['user-agent'] = USER_AGENT;
    if (this.#upstream.token !== undefined) req.headers.authorization = `Bearer ${this.#upstream.token}`;
    this.#proxy.web(req, res, {
      target: this.#upstream.url + (req.url ?? '/').slice(1),
      agent: this.#agent,
      proxyTimeout: this.#upstream.headersTimeoutMs,
      timeout: this.#config.server.requestTimeoutMs,
      ...(body ? { buffer: body } : {}),
    });
  }

  close(): void {
    this.#proxy.close();
    this.#agent.destroy();
  }
}
