import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import express from 'express';
import { TamperRecords } from '../cache/tamper-records.js';
import { SignatureLedger } from '../cache/signature-ledger.js';
import { TarballStore } from '../cache/tarball-store.js';
import type { Config } from '../config/types.js';
import type { VerifyRule } from '../policy/types.js';
import { CountersignError, toCountersignError } from '../errors.js';
import { accessLog, type Logger } from '../log.js';
import { Metrics } from '../metrics.js';
import { UpstreamClient } from '../upstream/client.js';
import { RegistryKeys } from '../upstream/keys.js';
import { SignaturePool } from '../verify/signature-pool.js';
import { CountersignResponse, requestInfo, setRequestIdHeader, type RouteName } from './context.js';
import { parseNpmPath, type NpmPath } from './npm-path.js';
import { OpenResponses } from './open-responses.js';
import { PackumentService, type DecisionEpochs } from './packument-service.js';
import { sendError, sendJson } from './respond.js';
import { FastScopeProxy } from './routes/fast.js';
import { opsRouter, isOpsRequest } from './routes/ops.js';
import { isPassthrough, PublicPassthrough } from './routes/passthrough.js';
import { trustApiRouter } from './routes/api/index.js';
import { serveManifest, servePackument, serveTarball, type VerifiedDeps } from './routes/verified.js';
import { TarballOrigins } from './tarball-origin.js';
import { TarballService } from './tarball-service.js';
import { TrustRuntime } from './trust-runtime.js';
import { warmUp, type WarmUpReport } from './warm-up.js';
import { VERSION } from '../version.js';

export interface AppOptions {
  readonly logger: Logger;
  /** The clock for decisions (release age); tests move it. */
  readonly now?: () => number;
  /** COUNTERSIGN_ADMIN_TOKEN (checked by adminTokenFrom); undefined = no admin API. */
  readonly adminToken?: string;
  /** How many log lines the log's destination dropped so far (bufferedStdout's count). */
  readonly droppedLogLines?: () => number;
}

export interface AppServices {
  readonly config: Config;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly client: UpstreamClient;
  readonly packuments: PackumentService;
  readonly tarballs: TarballService;
  readonly tamper: TamperRecords;
  readonly trust: TrustRuntime;
}

export interface App {
  readonly server: Server;
  readonly services: AppServices;
  /** Starts listening; resolves with the bound address as a URL (`http://127.0.0.1:54321/`). */
  listen(port?: number, host?: string): Promise<string>;
  /**
   * Starts the signature workers and runs the verification pipeline once on a generated packument
   * (see warm-up.ts), so that the first large packument is not also V8's first sight of that code.
   * Undefined when no rule verifies. `serve` calls it before `listen`.
   */
  warmUp(): Promise<WarmUpReport | undefined>;
  /** Stops accepting, lets in-flight requests finish within `shutdownGrace`, then closes everything. */
  close(): Promise<void>;
  readonly ready: boolean;
}

let requestCounter = 0;

function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  if (typeof given === 'string' && /^[A-Za-z0-9._:-]{1,64}$/.test(given)) return given;
  requestCounter = (requestCounter + 1) % Number.MAX_SAFE_INTEGER;
  return `r${requestCounter.toString(36)}`;
}

const PACKAGE_ROUTES: Record<Exclude<NpmPath['kind'], 'root' | 'special'>, RouteName> = {
  packument: 'packument',
  manifest: 'manifest',
  tarball: 'tarball',
  'package-other': 'publish',
};

export async function createApp(config: Config, options: AppOptions): Promise<App> {
  const { logger } = options;
  const metrics = new Metrics();
  metrics.buildInfo.set({ version: VERSION, policy: config.policy.hash }, 1);
  if (options.droppedLogLines) metrics.droppedLogLines = options.droppedLogLines;
  const now = options.now ?? Date.now;
  // First: a corrupt trust store stops start-up before anything else is opened or bound.
  const trust = new TrustRuntime({ config, logger, metrics, now });
  try {
    return await assemble(config, options, metrics, trust);
  } catch (err) {
    trust.close();
    throw err;
  }
}

async function assemble(config: Config, options: AppOptions, metrics: Metrics, trust: TrustRuntime): Promise<App> {
  const { logger } = options;
  const client = new UpstreamClient(config.upstreams, (upstream, kind, seconds, outcome) => {
    metrics.upstreamDuration.observe({ upstream, kind }, seconds);
    if (outcome === 'error') metrics.upstreamErrors.inc({ upstream, kind });
  });
  const keys = await RegistryKeys.open(client, config.upstreams.values(), (message, fields) => logger.warn(fields, message));
  const pool = new SignaturePool({ onWorkerError: (err) => logger.error({ err }, 'signature worker failed; verifying inline') });
  const store = await TarballStore.open(join(config.server.dataDir, 'tarballs'), config.tarballs.diskCacheBytes);
  const ledger = SignatureLedger.open(join(config.server.dataDir, 'signatures.db'), { onError: (message, err) => logger.warn({ err }, message) });
  const tamper = new TamperRecords();
  const epochs: DecisionEpochs = {
    epochFor: (name) => `${trust.epochFor(name)}.${tamper.epochFor(name)}`,
    // Each term only grows, so the sum moves whenever either does.
    generation: () => trust.changes + tamper.changes,
    isTampered: (facts) => tamper.has(facts),
  };
  const origins = new TarballOrigins(client, config.policy);
  const packuments = new PackumentService({ config, client, keys, pool, metrics, epochs, origins, ledger, evidence: (name) => trust.evidence(name), ...(options.now ? { now: options.now } : {}) });
  const tarballs = new TarballService({ config, client, store, metrics, tamper, origins, onTampered: (facts) => packuments.invalidate(facts.name) });
  const fast = new FastScopeProxy(config);
  const passthrough = new PublicPassthrough(config);
  const services: AppServices = { config, metrics, logger, client, packuments, tarballs, tamper, trust };
  const verified: VerifiedDeps = {
    config,
    packuments,
    tarballs,
    metrics,
    onHiddenRequested: (name, version, decision, req, facts) => trust.onHiddenRequested(name, version, decision, req, facts),
  };

  let listening = false;
  // Ready only while listening with the trust store open (DESIGN §6).
  const isReady = () => listening && trust.isOpen;
  const expressApp = express();
  expressApp.disable('x-powered-by');
  expressApp.set('etag', false);
  expressApp.use(opsRouter(metrics, isReady));
  expressApp.use(trustApiRouter({ config, logger, trust, packuments, adminToken: options.adminToken, now: options.now ?? Date.now }));
  expressApp.get('/', (_req, res) => {
    sendJson(res, 200, { name: 'countersign', version: VERSION, policy: config.policy.hash, docs: 'https://github.com/countersign/countersign#readme' });
  });
  expressApp.use((req, _res, next) => next(new CountersignError('ECS_NOT_FOUND', `no such endpoint: ${req.method} ${req.path}`)));
  expressApp.use((err: unknown, req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const error = toCountersignError((err as { type?: string }).type === 'entity.too.large'
      ? new CountersignError('ECS_BODY_TOO_LARGE', `request body is over the ${config.server.maxRequestBodyBytes}-byte cap (server.maxRequestBody)`)
      : err);
    if (error.code === 'ECS_INTERNAL') logger.error({ err, path: req.path }, 'unhandled error');
    sendError(res, error);
  });

  /**
   * Dispatches one request. Not async: a warm packument or tarball is answered before this
   * returns, without a promise; slower paths return theirs. Throws CountersignError.
   */
  function route(req: IncomingMessage, res: ServerResponse, id: string): void | Promise<void> {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const method = req.method ?? 'GET';
    const info = requestInfo(res);
    if (isOpsRequest(path, req)) {
      info.route = 'ops';
      setRequestIdHeader(res);
      return void expressApp(req, res);
    }
    if (!isReady()) throw new CountersignError('ECS_NOT_READY', 'countersign is starting or shutting down; retry in a moment');
    const target = parseNpmPath(path);
    if (target.kind === 'root' || target.kind === 'special') {
      setRequestIdHeader(res);
      if (target.kind === 'special' && isPassthrough(method, path)) return passthrough.handle(req, res);
      info.route = path.startsWith('/-/countersign/') ? 'api' : 'other';
      return void expressApp(req, res);
    }
    info.route = PACKAGE_ROUTES[target.kind];
    info.name = target.name;
    const rule = config.policy.ruleFor(target.name);
    if (!rule) throw new CountersignError('ECS_NO_RULE', `no policy rule matches ${target.name}; add a catch-all rule (match: ["**"]) to ${config.source}`);
    if (rule.mode === 'fast') {
      setRequestIdHeader(res);
      return fast.handle(req, res, rule, target.kind === 'packument' || target.kind === 'manifest');
    }
    info.mode = 'verify';
    if (method !== 'GET' && method !== 'HEAD') {
      if (method === 'PUT' || method === 'DELETE' || method === 'POST') {
        throw new CountersignError('ECS_PUBLISH_REFUSED', `countersign does not accept ${method} for ${target.name}: it only proxies the public registry for this name; publish internal packages under a fast scope (rules with mode: fast)`);
      }
      throw new CountersignError('ECS_METHOD_NOT_ALLOWED', `${method} is not supported on ${path}`);
    }
    // From here on every response writer adds the request id to its own writeHead.
    switch (target.kind) {
      case 'packument':
        return servePackument(verified, req, res, target.name, rule);
      case 'manifest':
        return serveManifest(verified, req, res, target.name, target.spec, rule);
      case 'tarball':
        return serveTarball(verified, req, res, target.name, target.file, rule, logger.child({ req: id }));
      case 'package-other':
        throw new CountersignError('ECS_NOT_FOUND', `no such endpoint: ${method} ${path}`);
    }
  }

  // One line per request, built by hand in pino's format (see accessLog in log.ts).
  const writeAccessLine = accessLog(logger);

  function logRequest(req: IncomingMessage, res: ServerResponse, id: string, started: number): void {
    const info = requestInfo(res);
    const seconds = (performance.now() - started) / 1000;
    const status = res.writableFinished ? res.statusCode : 499;
    metrics.requestDuration.observe({ route: info.route, mode: info.mode, status: String(status) }, seconds);
    writeAccessLine(status >= 500 || status === 499 ? 'warn' : 'info', {
      id,
      method: req.method,
      url: req.url,
      status,
      ms: Math.round(seconds * 10_000) / 10,
      route: info.route,
      mode: info.mode,
      cache: info.cache,
      code: info.error?.code,
      error: info.error?.message,
    });
  }

  function fail(res: ServerResponse, id: string, err: unknown): void {
    const error = toCountersignError(err);
    if (error.code === 'ECS_INTERNAL') logger.error({ req: id, err }, 'unhandled error');
    if (!res.writableEnded) sendError(res, error);
  }

  const open = new OpenResponses<CountersignResponse>();
  let shuttingDown = false;
  /** Once shutting down, a connection closes after its current response instead of idling. */
  const lastOnItsConnection = (res: ServerResponse): void => {
    if (!res.headersSent) res.shouldKeepAlive = false;
    else res.once('finish', () => setImmediate(() => server.closeIdleConnections()));
  };

  // One listener for every response (no closure per request): `this` is the response.
  function onResponseClose(this: CountersignResponse): void {
    open.delete(this);
    logRequest(this.req, this, this.info.id!, this.started);
  }

  const server = createServer<typeof IncomingMessage, typeof CountersignResponse>({
    keepAliveTimeout: 65_000,
    requestTimeout: config.server.requestTimeoutMs,
    ServerResponse: CountersignResponse,
  }, (req, res) => {
    res.started = performance.now();
    const id = requestId(req);
    res.info.id = id;
    open.add(res);
    if (shuttingDown) lastOnItsConnection(res);
    res.on('close', onResponseClose);
    let pending: void | Promise<void>;
    try {
      pending = route(req, res, id);
    } catch (err) {
      fail(res, id, err);
      return;
    }
    pending?.catch((err: unknown) => fail(res, id, err));
  });

  let closing: Promise<void> | undefined;
  const app: App = {
    server,
    services,
    get ready() {
      return isReady();
    },
    async warmUp() {
      const rule = config.policy.rules.find((r): r is VerifyRule => r.mode === 'verify');
      if (rule === undefined) return undefined;
      pool.start();
      return warmUp({ pool, origins, rule, upstreamUrl: client.upstream(rule.upstream).url });
    },
    listen(port = config.server.port, host = config.server.host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          listening = true;
          metrics.ready.set(1);
          // The first large packument should not wait for the workers to boot (~40 ms on 2 cores).
          pool.start();
          const address = server.address();
          const bound = typeof address === 'object' && address ? address : { address: host, port };
          const shownHost = bound.address.includes(':') ? `[${bound.address}]` : bound.address;
          resolve(`http://${shownHost}:${bound.port}/`);
        });
      });
    },
    close() {
      closing ??= (async () => {
        listening = false;
        shuttingDown = true;
        metrics.ready.set(0);
        const deadline = Date.now() + config.server.shutdownGraceMs;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        // Without this, keep-alive clients (npm is one) hold the server open for the whole grace.
        for (const res of open.snapshot()) lastOnItsConnection(res);
        const grace = new Promise<void>((resolve) => setTimeout(resolve, config.server.shutdownGraceMs).unref());
        await Promise.race([stopped, grace]);
        server.closeAllConnections();
        fast.close();
        passthrough.close();
        // Upstream requests with no client left (a packument being fetched) get what remains of
        // the grace, then are aborted: shutdown is bounded by shutdownGrace, not by upstream timeouts.
        await Promise.all([client.close(Math.max(0, deadline - Date.now())), pool.close()]);
        ledger?.close();
        trust.close();
      })();
      return closing;
    },
  };
  return app;
}
