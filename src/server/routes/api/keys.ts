import type { Request, Router } from 'express';
import { iso } from '../../../trust/time.js';
import type { KeyView } from '../../../trust/trust-store.js';
import { effectiveNotAfter } from '../../../trust/key-standing.js';
import type { RevocationState } from '../../../trust/types.js';
import { assertAdmin } from '../../admin-auth.js';
import { sendJson } from '../../respond.js';
import { API_PREFIX, readJsonObject, type ApiDeps } from './context.js';

export function revocationJson(r: RevocationState): Record<string, unknown> {
  return { keyid: r.keyid, revokedAt: iso(r.revokedAt), voidFrom: Number.isFinite(r.voidFrom) ? iso(r.voidFrom) : 'all signatures', reasons: r.reasons };
}

export function keyJson(view: KeyView, maxKeyValidityMs: number): Record<string, unknown> {
  const { key } = view;
  return {
    keyid: key.keyid,
    principal: key.principal,
    publicKey: key.publicKey,
    roles: key.roles,
    packages: key.packages,
    trust: key.trust,
    notBefore: iso(key.notBefore),
    notAfter: iso(effectiveNotAfter(key, maxKeyValidityMs)),
    enrolledAt: iso(key.enrolledAt),
    status: view.status,
    ...(view.revocation ? { revocation: revocationJson(view.revocation) } : {}),
  };
}

/** Admin: list, enrol and revoke keys. Mounted only when COUNTERSIGN_ADMIN_TOKEN is set. */
export function keyRoutes(router: Router, deps: ApiDeps, token: string): void {
  const { trust, config } = deps;
  const admin = (req: Request) => assertAdmin(req, token);

  router.get(`${API_PREFIX}/keys`, (req, res) => {
    admin(req);
    sendJson(res, 200, { keys: trust.store.keys().map((k) => keyJson(k, config.trust.maxKeyValidityMs)) });
  });

  router.post(`${API_PREFIX}/keys`, async (req, res) => {
    admin(req);
    const key = trust.store.enrol(await readJsonObject(req, config.trust.maxDocumentBytes));
    deps.logger.info({ keyid: key.keyid, principal: key.principal, roles: key.roles }, 'trust key enrolled');
    const view = trust.store.keys().find((k) => k.key.keyid === key.keyid)!;
    sendJson(res, 201, keyJson(view, config.trust.maxKeyValidityMs));
  });

  router.post(`${API_PREFIX}/keys/:keyid/revoke`, async (req, res) => {
    admin(req);
    const body = await readJsonObject(req, config.trust.maxDocumentBytes);
    const state = trust.store.revoke({ ...body, keyid: req.params.keyid });
    deps.logger.warn({ keyid: state.keyid, reasons: state.reasons }, 'trust key revoked');
    sendJson(res, 200, revocationJson(state));
  });
}
