import { once } from 'node:events';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Router } from 'express';
import { CountersignError } from '../../../errors.js';
import { importJsonLines } from '../../../trust/import.js';
import { iso } from '../../../trust/time.js';
import type { SubmitResult } from '../../../trust/trust-store.js';
import { adminStatus } from '../../admin-auth.js';
import { clientAddress } from '../../client-id.js';
import { sendJson } from '../../respond.js';
import { API_PREFIX, readBody, type ApiDeps } from './context.js';

function isJsonLines(contentType: string | undefined): boolean {
  return /^application\/(?:x-ndjson|jsonl|x-jsonlines)\b/i.test(contentType ?? '');
}

function resultJson(r: SubmitResult): Record<string, unknown> {
  const s = r.statement;
  return {
    id: r.id,
    seq: r.seq,
    seenAt: iso(r.seenAt),
    duplicate: r.duplicate,
    type: s.type,
    ...(s.type === 'revocation' ? { keyid: s.keyid } : { name: s.subject.name, version: s.subject.version, sha512: s.subject.sha512 }),
    ...(s.type === 'audit' ? { kind: s.kind, criteria: s.criteria } : {}),
  };
}

/**
 * `POST documents`: one signed document (anyone, rate-limited per client), or JSON Lines of them
 * (the admin token: import). The answer comes after the commit, so a 2xx means it is on disk.
 * `GET documents`: every stored document as JSON Lines (export), optionally `?name=`, `?since=`.
 */
export function documentRoutes(router: Router, deps: ApiDeps): void {
  const { config, trust } = deps;
  router.post(`${API_PREFIX}/documents`, async (req, res) => {
    const admin = adminStatus(req, deps.adminToken) === 'admin';
    if (isJsonLines(req.headers['content-type'])) {
      if (!admin) throw new CountersignError('ECS_UNAUTHORIZED', 'importing JSON Lines needs the admin token (Authorization: Bearer <COUNTERSIGN_ADMIN_TOKEN>); submit single documents without it');
      const body = await readBody(req, config.server.maxRequestBodyBytes, 'server.maxRequestBody');
      const report = await importJsonLines(body.toString('utf8'), (bytes) => trust.store.submit(bytes), () => yieldToLoop());
      sendJson(res, 200, report);
      return;
    }
    if (!admin) {
      const take = trust.limiter.take(clientAddress(req, config.server.trustProxy), deps.now());
      if (!take.ok) {
        req.resume();
        const seconds = Math.max(1, Math.ceil(take.retryAfterMs / 1000));
        res.setHeader('retry-after', String(seconds));
        throw new CountersignError('ECS_RATE_LIMITED', `too many document submissions from this client (trust.submissionsPerMinute is ${config.trust.submissionsPerMinute}); retry in ${seconds} s`);
      }
    }
    const body = await readBody(req, config.trust.maxDocumentBytes, 'trust.maxDocumentSize');
    const result = trust.store.submit(body);
    deps.logger.info({ id: result.id, seq: result.seq, type: result.statement.type, duplicate: result.duplicate }, 'trust document accepted');
    sendJson(res, result.duplicate ? 200 : 201, resultJson(result));
  });

  router.get(`${API_PREFIX}/documents`, async (req, res) => {
    const name = typeof req.query.name === 'string' ? req.query.name : undefined;
    const sinceText = typeof req.query.since === 'string' ? req.query.since : '0';
    if (!/^\d{1,15}$/.test(sinceText)) throw new CountersignError('ECS_USAGE', '?since= must be a log sequence number (the seq of the last document you have)');
    const head = trust.store.headOfLog();
    res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store', 'x-countersign-log-head': `${head.seq}:${head.hash}` });
    for await (const { line } of trust.store.exportLines({ since: Number(sinceText), ...(name !== undefined ? { name } : {}) })) {
      if (res.destroyed) return;
      // Backpressure: a large export streams at the client's pace instead of piling up in memory.
      if (!res.write(`${line}\n`)) await once(res, 'drain');
    }
    res.end();
  });
}
