import type { Request, Router } from 'express';
import { CountersignError, isCountersignError } from '../../../errors.js';
import { nearestAuditedVersion, type AuditedVersion } from '../../../trust/nearest.js';
import type { QueueRow } from '../../../trust/store/queue-table.js';
import { iso } from '../../../trust/time.js';
import { publicBase } from '../../public-url.js';
import { sendJson } from '../../respond.js';
import { API_PREFIX, type ApiDeps } from './context.js';

export interface QueueEntry extends Omit<QueueRow, 'firstAsked' | 'lastAsked'> {
  readonly firstAsked: string;
  readonly lastAsked: string;
  readonly nearestAudited: AuditedVersion | null;
  /** The decision could not be recomputed now (upstream down): reasons are from the last request. */
  readonly stale: boolean;
}

/**
 * Rechecks a queued version against the current decision: gone (allowed now, or no longer
 * upstream, or in a fast scope) → removed from the queue; still hidden → its current reasons.
 */
async function recheck(deps: ApiDeps, req: Request, row: QueueRow): Promise<{ keep: boolean; reasons: readonly string[]; stale: boolean }> {
  const rule = deps.config.policy.ruleFor(row.name);
  if (!rule || rule.mode !== 'verify') return { keep: false, reasons: [], stale: false };
  try {
    const { view } = await deps.packuments.view(row.name, rule, publicBase(req, deps.config));
    const decision = view.decisions.summary(row.version);
    if (!decision) return { keep: view.malformed.some((m) => m.version === row.version), reasons: ['malformed'], stale: false };
    return { keep: !decision.allowed, reasons: decision.reasons, stale: false };
  } catch (err) {
    if (isCountersignError(err, 'ECS_NOT_FOUND')) return { keep: false, reasons: [], stale: false };
    if (isCountersignError(err) && err.code !== 'ECS_INTERNAL') return { keep: true, reasons: row.reasons, stale: true };
    throw err;
  }
}

/** `GET queue?limit=N`: hidden versions clients asked for, most wanted first, with the nearest audited version. */
export function queueRoutes(router: Router, deps: ApiDeps): void {
  router.get(`${API_PREFIX}/queue`, async (req, res) => {
    const limitText = typeof req.query.limit === 'string' ? req.query.limit : '50';
    if (!/^\d{1,4}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > 1000) throw new CountersignError('ECS_USAGE', '?limit= must be a number from 1 to 1000');
    const limit = Number(limitText);
    const { trust } = deps;
    trust.flushDemand();
    const entries: QueueEntry[] = [];
    let offset = 0;
    while (entries.length < limit) {
      const rows = trust.store.queue.list(limit, offset);
      if (rows.length === 0) break;
      for (const row of rows) {
        const { keep, reasons, stale } = await recheck(deps, req, row);
        if (!keep) {
          trust.store.queue.remove(row.name, row.version);
          continue;
        }
        offset++;
        if (entries.length < limit) {
          entries.push({
            ...row,
            reasons,
            stale,
            firstAsked: iso(row.firstAsked),
            lastAsked: iso(row.lastAsked),
            nearestAudited: nearestAuditedVersion(trust.evidence(row.name), row.version) ?? null,
          });
        }
      }
    }
    trust.flushDemand();
    sendJson(res, 200, { total: trust.store.queue.count(), entries });
  });
}
