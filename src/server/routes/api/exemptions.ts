import type { Router } from 'express';
import { CountersignError } from '../../../errors.js';
import { assertAdmin } from '../../admin-auth.js';
import { sendJson } from '../../respond.js';
import { API_PREFIX, readJsonObject, type ApiDeps } from './context.js';

/** Admin: record baseline exemptions (`countersign baseline` sends them). All or none. */
export function exemptionRoutes(router: Router, deps: ApiDeps, token: string): void {
  router.post(`${API_PREFIX}/exemptions`, async (req, res) => {
    assertAdmin(req, token);
    const doc = await readJsonObject(req, deps.config.server.maxRequestBodyBytes, 'server.maxRequestBody');
    if (!Array.isArray(doc.exemptions)) throw new CountersignError('ECS_RECORD_INVALID', 'the body must be { "exemptions": [ { name, version, sha512, expiresAt, source }, … ] }');
    const recorded = deps.trust.store.exempt(doc.exemptions as unknown[]);
    deps.logger.info({ count: recorded.length }, 'baseline exemptions recorded');
    sendJson(res, 201, { recorded: recorded.length });
  });
}
