import type { IncomingMessage, ServerResponse } from 'node:http';
import semver from 'semver';
import type { Config } from '../../config/types.js';
import { CountersignError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Metrics } from '../../metrics.js';
import type { HideReason } from '../../policy/decision.js';
import type { DecisionSummary } from '../decision-table.js';
import type { VerifyRule } from '../../policy/types.js';
import { isValidVersion, versionFromTarballFile } from '../../registry/name.js';
import type { PackumentForm } from '../../registry/render.js';
import type { VersionFacts } from '../../registry/types.js';
import { expectedDigest } from '../../verify/integrity.js';
import { requestInfo } from '../context.js';
import type { PackumentService, PackumentView, ViewResult } from '../packument-service.js';
import { publicBase } from '../public-url.js';
import { sendJson, sendVariant, wantsAbbreviated } from '../respond.js';
import type { TarballService } from '../tarball-service.js';

export interface VerifiedDeps {
  readonly config: Config;
  readonly packuments: PackumentService;
  readonly tarballs: TarballService;
  readonly metrics: Metrics;
  /** Records that a client wanted a hidden version (the audit queue); optional. */
  readonly onHiddenRequested?: (name: string, version: string, decision: DecisionSummary, req: IncomingMessage, facts: VersionFacts | undefined) => void;
}

/** "3 × signature-invalid, 1 × release-age", most frequent first. */
function reasonCounts(reasonLists: Iterable<readonly HideReason[]>): string {
  const counts = new Map<HideReason, number>();
  for (const list of reasonLists) for (const r of list) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([reason, n]) => `${n} × ${reason}`).join(', ');
}

function staleHeaders(result: ViewResult): Record<string, string> {
  if (!result.staleBecause) return {};
  return { warning: '110 countersign "Response is Stale"', 'x-countersign-stale': result.staleBecause.code };
}

/** The version `npm install <name>` would want: the highest stable one, else the highest. */
function wantedVersion(view: PackumentView): string | undefined {
  const versions = [...view.decisions.keys()].sort(semver.rcompare);
  return versions.find((v) => semver.prerelease(v) === null) ?? versions[0];
}

function assertServable(deps: VerifiedDeps, req: IncomingMessage, view: PackumentView): void {
  if (view.servedCount > 0) return;
  const total = view.decisions.size + view.malformed.length;
  if (total === 0) throw new CountersignError('ECS_NOT_FOUND', `${view.name} has no versions upstream (unpublished?)`);
  const wanted = wantedVersion(view);
  if (wanted !== undefined) deps.onHiddenRequested?.(view.name, wanted, view.decisions.summary(wanted)!, req, view.facts.get(wanted));
  const reasons = reasonCounts([...[...view.decisions.summaries()].map((d) => d.reasons), ...view.malformed.map((): HideReason[] => ['malformed'])]);
  throw new CountersignError(
    'ECS_ALL_VERSIONS_HIDDEN',
    `all ${total} versions of ${view.name} are hidden by policy rule ${view.rule.index} (${reasons}); ` +
      `see GET /-/countersign/v1/status/${view.name}/<version> for each check, or ask an auditor to review it (countersign queue)`,
    { details: { name: view.name, hidden: total } },
  );
}

function hiddenError(view: PackumentView, version: string): CountersignError {
  const decision = view.decisions.decision(version)!;
  return new CountersignError('ECS_VERSION_HIDDEN', `${decision.summary}; see /-/countersign/v1/status/${view.name}/${version}`, {
    details: { name: view.name, version, reasons: decision.reasons },
  });
}

async function loadView(deps: VerifiedDeps, req: IncomingMessage, res: ServerResponse, name: string, rule: VerifyRule, form?: PackumentForm): Promise<ViewResult> {
  const result = await deps.packuments.view(name, rule, publicBase(req, deps.config), form);
  if (result.staleBecause) requestInfo(res).cache = 'stale';
  return result;
}

/** A warm packument is written before this returns (no promise); a cold one returns its promise. */
export function servePackument(deps: VerifiedDeps, req: IncomingMessage, res: ServerResponse, name: string, rule: VerifyRule): void | Promise<void> {
  const warm = deps.packuments.warmView(name, rule, publicBase(req, deps.config));
  if (warm !== undefined) return sendPackument(deps, req, res, { view: warm, staleBecause: undefined });
  return loadView(deps, req, res, name, rule, wantsAbbreviated(req) ? 'abbreviated' : 'full').then((result) => sendPackument(deps, req, res, result));
}

function sendPackument(deps: VerifiedDeps, req: IncomingMessage, res: ServerResponse, result: ViewResult): void | Promise<void> {
  assertServable(deps, req, result.view);
  // `npm install <name>@<hidden>` only ever asks for the packument, so the exact version a client
  // wanted is unknowable; the upstream's held-back `latest` is the one a plain install would take.
  const held = result.view.latestHeldBack;
  if (held !== undefined) deps.onHiddenRequested?.(result.view.name, held, result.view.decisions.summary(held)!, req, result.view.facts.get(held));
  const variant = wantsAbbreviated(req) ? result.view.abbreviated : result.view.full;
  return sendVariant(req, res, variant, {
    maxAgeSeconds: Math.floor(deps.config.packuments.clientMaxAgeMs / 1000),
    ...(result.staleBecause ? { extraHeaders: staleHeaders(result) } : {}),
  });
}

/** `/name/1.2.3` or `/name/<tag>`: one manifest, when its version is served. */
export async function serveManifest(deps: VerifiedDeps, req: IncomingMessage, res: ServerResponse, name: string, spec: string, rule: VerifyRule): Promise<void> {
  const result = await loadView(deps, req, res, name, rule);
  const { view } = result;
  const version = isValidVersion(spec) ? spec : view.distTags.get(spec);
  if (version === undefined) {
    if (/^[A-Za-z0-9._~-]{1,128}$/.test(spec)) throw new CountersignError('ECS_NOT_FOUND', `${name} has no served version or dist-tag "${spec}"`);
    throw new CountersignError('ECS_BAD_VERSION', `"${spec.slice(0, 64)}" is neither a version nor a dist-tag`);
  }
  const decision = view.decisions.summary(version);
  if (!decision) throw new CountersignError('ECS_NOT_FOUND', `${name}@${version} does not exist upstream`);
  if (!decision.allowed) {
    deps.onHiddenRequested?.(name, version, decision, req, view.facts.get(version));
    throw hiddenError(view, version);
  }
  const body = deps.packuments.manifestJson(view, version);
  if (body === undefined) throw new CountersignError('ECS_NOT_FOUND', `${name}@${version} does not exist upstream`);
  sendJson(res, 200, JSON.parse(body), { 'cache-control': `public, max-age=${Math.floor(deps.config.packuments.clientMaxAgeMs / 1000)}`, ...staleHeaders(result) });
}

export async function serveTarball(deps: VerifiedDeps, req: IncomingMessage, res: ServerResponse, name: string, file: string, rule: VerifyRule, log: Logger): Promise<void> {
  const version = versionFromTarballFile(name, file);
  const { view } = await loadView(deps, req, res, name, rule);
  const decision = view.decisions.summary(version);
  const facts = view.facts.get(version);
  if (!decision || !facts) {
    const malformed = view.malformed.find((m) => m.version === version);
    if (malformed) throw new CountersignError('ECS_VERSION_HIDDEN', `${name}@${version} is hidden: its metadata is malformed (${malformed.reason})`);
    throw new CountersignError('ECS_NOT_FOUND', `${name}@${version} does not exist upstream`);
  }
  if (!decision.allowed) {
    deps.metrics.tarballsBlocked.inc({ reason: decision.reasons[0] ?? 'policy' });
    deps.onHiddenRequested?.(name, version, decision, req, facts);
    throw hiddenError(view, version);
  }
  if (decision.warned) log.warn({ name, version, reasons: decision.reasons }, `serving a version that fails the policy (onViolation: warn): ${view.decisions.decision(version)!.summary}`);
  const expected = expectedDigest(facts, rule.require.base.integrity);
  if (!expected) {
    throw new CountersignError('ECS_VERSION_HIDDEN', `${name}@${version} has no usable integrity to verify its tarball against`);
  }
  await deps.tarballs.serve(req, res, facts, expected, log, rule.upstream);
}
