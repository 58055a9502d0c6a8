import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseDuration } from '../config/units.js';
import { CountersignError } from '../errors.js';
import { baselineFromLockfile } from '../trust/baseline.js';
import { adminTarget, TARGET_HELP, TARGET_OPTIONS, withTarget } from './admin-target.js';
import { parseCommandArgs } from './args.js';
import { EXIT_OK } from './exit-codes.js';
import { callJson } from './registry-client.js';

export const BASELINE_HELP = `countersign baseline <package-lock.json> [--expires 90d]

Records time-limited exemptions for exactly the name@version+sha512 the lockfile installs, so a
team can adopt audit requirements without auditing its whole tree first. An exemption satisfies
require.audits (unless the rule says exemptions: false); it never excuses a bad signature, a
tampered tarball or a violation report. --expires is capped by trust.maxExemption (365d).
${TARGET_HELP}`;

export async function baseline(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('baseline', argv, { ...TARGET_OPTIONS, expires: { type: 'string' } }, true);
  const file = positionals[0];
  if (file === undefined) throw new CountersignError('ECS_USAGE', 'countersign baseline: name the package-lock.json to exempt');
  let lock: unknown;
  try {
    lock = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CountersignError('ECS_USAGE', `cannot read ${file} as JSON: ${(err as Error).message}`);
  }
  let forMs: number;
  try {
    forMs = parseDuration(values.expires ?? '90d');
  } catch (err) {
    throw new CountersignError('ECS_USAGE', `--expires: ${(err as Error).message}`);
  }
  const { entries, skipped } = baselineFromLockfile(lock);
  for (const s of skipped) process.stderr.write(`skipped ${s.what}: ${s.why}\n`);
  if (entries.length === 0) throw new CountersignError('ECS_USAGE', `${file} lists no registry packages with a sha512 integrity; nothing to exempt`);
  const expiresAt = new Date(Date.now() + forMs).toISOString();
  const exemptions = entries.map((e) => ({ ...e, expiresAt, source: basename(file) }));
  const recorded = await withTarget(adminTarget(values, { create: true }), async (t) => {
    if (t.kind === 'remote') return (await callJson<{ recorded: number }>(t.base, 'POST', '/-/countersign/v1/exemptions', { body: JSON.stringify({ exemptions }), contentType: 'application/json', token: t.token })).recorded;
    return t.store.exempt(exemptions).length;
  });
  process.stdout.write(`exempted ${recorded} versions from ${basename(file)} until ${expiresAt}${skipped.length ? `; skipped ${skipped.length} (see above)` : ''}\n`);
  return EXIT_OK;
}
