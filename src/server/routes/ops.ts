import type { IncomingMessage } from 'node:http';
import { Router } from 'express';
import type { Metrics } from '../../metrics.js';
import { sendJson } from '../respond.js';

const OPS_PATHS = new Set(['/metrics', '/healthz', '/readyz', '/-/metrics', '/-/healthz', '/-/readyz']);

/**
 * `/metrics`, `/healthz` and `/readyz` are also valid package names ("metrics" is on npm). npm
 * clients always ask for JSON, Prometheus and kubelet never do, so the Accept header tells them
 * apart; the `/-/` aliases are unambiguous.
 */
export function isOpsRequest(path: string, req: IncomingMessage): boolean {
  if (!OPS_PATHS.has(path)) return false;
  if (path.startsWith('/-/')) return true;
  const accept = req.headers.accept ?? '';
  return !accept.includes('application/json') && !accept.includes('application/vnd.npm');
}

export function opsRouter(metrics: Metrics, isReady: () => boolean): Router {
  const router = Router();
  const healthz = (_req: unknown, res: Parameters<typeof sendJson>[0]) => sendJson(res, 200, { status: 'ok' });
  const readyz = (_req: unknown, res: Parameters<typeof sendJson>[0]) => {
    if (isReady()) sendJson(res, 200, { status: 'ready' });
    else sendJson(res, 503, { status: 'not ready', error: 'countersign is starting or shutting down' });
  };
  const scrape = async (_req: unknown, res: Parameters<typeof sendJson>[0]) => {
    const body = await metrics.registry.metrics();
    res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
    res.end(body);
  };
  for (const prefix of ['', '/-']) {
    router.get(`${prefix}/healthz`, healthz);
    router.get(`${prefix}/readyz`, readyz);
    router.get(`${prefix}/metrics`, scrape);
  }
  return router;
}
