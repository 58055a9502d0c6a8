import { parseCommandArgs } from './args.js';
import { EXIT_FAILED, EXIT_OK } from './exit-codes.js';
import { apiPath, parsePackageSpec } from './package-spec.js';
import { callJson, registryUrl } from './registry-client.js';

export const STATUS_HELP = `countersign status <name@version> [--registry URL] [--json]

Explains the decision about one version: each check, each audit counted or not and why, and for
a hidden version the nearest audited one. Exit 0 when the version is served, 1 when it is hidden.`;

export interface StatusJson {
  name: string;
  version: string;
  sha512: string | null;
  integrity: string | null;
  allowed: boolean;
  summary: string;
  /** `fast` for a name in a fast scope (not verified, no facts). */
  mode?: string;
  rule?: { index: number; match: string[] };
  checks?: Array<{ check: string; ok: boolean; detail: string; audits?: Array<{ principal: string | null; keyid: string; kind: string; criteria: string[]; seenAt: string; counted: boolean; why: string }> }>;
  nearestAudited?: { version: string; principals: string[] } | null;
}

export function fetchStatus(base: string, name: string, version: string): Promise<StatusJson> {
  return callJson<StatusJson>(base, 'GET', apiPath('status', name, version));
}

export function formatStatus(s: StatusJson): string {
  const lines = [`${s.name}@${s.version}: ${s.allowed ? 'served' : 'HIDDEN'}${s.rule ? ` (policy rule ${s.rule.index}: ${s.rule.match.join(', ')})` : ''}`];
  if (s.sha512) lines.push(`  sha512 ${s.sha512}`);
  for (const c of s.checks ?? []) {
    lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.check.padEnd(19)} ${c.detail}`);
    for (const a of c.audits ?? []) {
      lines.push(`         ${a.counted ? '+' : '-'} ${(a.principal ?? a.keyid).padEnd(20)} ${a.kind} (${a.criteria.join(', ') || 'no criteria'}) first seen ${a.seenAt}: ${a.why}`);
    }
  }
  if (!s.allowed && s.nearestAudited) {
    lines.push(`  nearest audited version: ${s.nearestAudited.version} (${s.nearestAudited.principals.join(', ')}); review the diff and run`);
    lines.push(`    countersign audit ${s.name}@${s.version} --delta-from ${s.nearestAudited.version}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function status(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('status', argv, { registry: { type: 'string' }, json: { type: 'boolean' } }, true);
  const { name, version } = parsePackageSpec(positionals[0], 'status');
  const s = await fetchStatus(registryUrl(values.registry), name, version);
  process.stdout.write(values.json ? `${JSON.stringify(s, null, 2)}\n` : formatStatus(s));
  return s.allowed ? EXIT_OK : EXIT_FAILED;
}
