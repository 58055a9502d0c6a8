import type { Request, Response, Router } from 'express';
import { CountersignError } from '../../../errors.js';
import type { Decision } from '../../../policy/decision.js';
import type { VerifyRule } from '../../../policy/types.js';
import type { VersionFacts } from '../../../registry/types.js';
import { nearestAuditedVersion } from '../../../trust/nearest.js';
import { badgeState } from '../../badge.js';
import { renderBadge } from '../../badge-svg.js';
import type { PackumentView } from '../../packument-service.js';
import { publicBase } from '../../public-url.js';
import { sendError, sendJson } from '../../respond.js';
import { statusReport } from '../../status-report.js';
import { API_PREFIX, nameAndVersion, type ApiDeps } from './context.js';

interface Found {
  readonly rule: VerifyRule;
  readonly view: PackumentView;
  readonly facts: VersionFacts | undefined;
  readonly decision: Decision | undefined;
  readonly malformed: string | undefined;
}

async function lookUp(deps: ApiDeps, req: Request, name: string, version: string): Promise<Found | { fast: true }> {
  const rule = deps.config.policy.ruleFor(name);
  if (!rule) throw new CountersignError('ECS_NO_RULE', `no policy rule matches ${name}; add a catch-all rule (match: ["**"]) to ${deps.config.source}`);
  if (rule.mode === 'fast') return { fast: true };
  const { view } = await deps.packuments.view(name, rule, publicBase(req, deps.config));
  return { rule, view, facts: view.facts.get(version), decision: view.decisions.decision(version), malformed: view.malformed.find((m) => m.version === version)?.reason };
}

/**
 * `status/:name/:version` explains a decision check by check, each audit counted or not and why;
 * `badge/:name/:version.svg` says it in a few words. Both show hidden versions too (that is
 * what auditors need to see), never their tarballs.
 */
export function statusRoutes(router: Router, deps: ApiDeps): void {
  router.get(`${API_PREFIX}/status/*rest`, async (req, res) => {
    const { name, version } = nameAndVersion(req.path.slice(`${API_PREFIX}/status`.length));
    const found = await lookUp(deps, req, name, version);
    if ('fast' in found) {
      sendJson(res, 200, { name, version, mode: 'fast', allowed: true, summary: `${name} is in a fast scope: passed through to its registry, not verified` });
      return;
    }
    if (found.malformed !== undefined) {
      sendJson(res, 200, { name, version, allowed: false, reasons: ['malformed'], summary: `${name}@${version} is hidden: its metadata is malformed (${found.malformed})`, checks: [] });
      return;
    }
    if (!found.facts || !found.decision) throw new CountersignError('ECS_NOT_FOUND', `${name}@${version} does not exist upstream`);
    const nearest = found.decision.allowed ? undefined : nearestAuditedVersion(deps.trust.evidence(name), version);
    sendJson(res, 200, statusReport(found.rule, found.facts, found.decision, nearest));
  });

  router.get(`${API_PREFIX}/badge/*rest`, async (req, res) => {
    let svg: string;
    let status = 200;
    try {
      const { name, version } = nameAndVersion(req.path.slice(`${API_PREFIX}/badge`.length), '.svg');
      const found = await lookUp(deps, req, name, version);
      const missing = !('fast' in found) && !found.decision && found.malformed === undefined;
      const state = 'fast' in found
        ? { message: 'not verified', colour: 'grey' as const }
        : found.malformed !== undefined
          ? { message: 'hidden', colour: 'red' as const }
          : missing
            ? { message: 'not found', colour: 'grey' as const }
            : badgeState(found.decision);
      if (missing) status = 404;
      svg = renderBadge('countersign', state.message, state.colour);
    } catch (err) {
      if (!(err instanceof CountersignError) || err.code === 'ECS_INTERNAL') return void sendError(res, err);
      status = err.status;
      svg = renderBadge('countersign', err.status === 404 ? 'not found' : err.status >= 500 ? 'unavailable' : 'invalid', 'grey');
    }
    sendSvg(res, status, svg);
  });
}

function sendSvg(res: Response, status: number, svg: string): void {
  res.writeHead(status, { 'content-type': 'image/svg+xml; charset=utf-8', 'content-length': Buffer.byteLength(svg), 'cache-control': 'no-cache, max-age=0' });
  res.end(res.req.method === 'HEAD' ? undefined : svg);
}
