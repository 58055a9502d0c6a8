import { Router } from 'express';
import type { ApiDeps } from './context.js';
import { documentRoutes } from './documents.js';
import { exemptionRoutes } from './exemptions.js';
import { keyRoutes } from './keys.js';
import { queueRoutes } from './queue.js';
import { statusRoutes } from './status.js';

/**
 * The trust API under `/-/countersign/v1/`. Admin routes (keys, exemptions) exist only when an
 * admin token is configured: without one they answer 404 like any unknown path.
 */
export function trustApiRouter(deps: ApiDeps): Router {
  const router = Router();
  documentRoutes(router, deps);
  statusRoutes(router, deps);
  queueRoutes(router, deps);
  if (deps.adminToken !== undefined) {
    keyRoutes(router, deps, deps.adminToken);
    exemptionRoutes(router, deps, deps.adminToken);
  }
  return router;
}
