import { CountersignError } from '../errors.js';
import { signEnvelope } from '../trust/dsse.js';
import { CRITERION_RE, statementBytes } from '../trust/statement.js';
import type { AuditKind, Thoroughness, VersionRef } from '../trust/types.js';
import { parseCommandArgs } from './args.js';
import { EXIT_OK } from './exit-codes.js';
import { keyFilePath, readKeyFile } from './key-file.js';
import { parsePackageSpec } from './package-spec.js';
import { callJson, registryUrl } from './registry-client.js';
import { fetchStatus } from './status.js';

export const AUDIT_HELP = `countersign audit <name@version> [--key FILE] [--criteria safe-to-deploy] [--delta-from VERSION]
                  [--violation] [--notes TEXT] [--thoroughness low|medium|high] [--registry URL]

Signs an audit of exactly the bytes countersign serves for name@version (it asks the proxy for
the version's sha512, hidden versions included) and submits it. Review the tarball first, e.g.
npm pack name@version from the public registry: its integrity must be the one printed here.
--criteria: what you vouch for, comma-separated (default safe-to-deploy, which implies
safe-to-run). --delta-from: you reviewed the diff from an audited version. --violation: you
found something malicious or broken; it hides the version for everyone. Exit 0 when accepted,
1 when countersign refused the signature or the key.`;

const THOROUGHNESS = ['low', 'medium', 'high'];

export async function audit(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('audit', argv, {
    key: { type: 'string', short: 'k' },
    criteria: { type: 'string' },
    'delta-from': { type: 'string' },
    violation: { type: 'boolean' },
    notes: { type: 'string' },
    thoroughness: { type: 'string' },
    registry: { type: 'string' },
  }, true);
  const { name, version } = parsePackageSpec(positionals[0], 'audit');
  if (positionals.length > 1) throw new CountersignError('ECS_USAGE', 'countersign audit takes one name@version');
  if (values.violation && values['delta-from'] !== undefined) throw new CountersignError('ECS_USAGE', 'countersign audit: --violation and --delta-from do not go together');
  const criteria = (values.criteria ?? (values.violation ? '' : 'safe-to-deploy')).split(',').map((c) => c.trim()).filter(Boolean);
  for (const c of criteria) if (!CRITERION_RE.test(c)) throw new CountersignError('ECS_USAGE', `countersign audit: ${JSON.stringify(c)} is not a criterion name (lower-case letters, digits and -)`);
  if (values.thoroughness !== undefined && !THOROUGHNESS.includes(values.thoroughness)) throw new CountersignError('ECS_USAGE', '--thoroughness must be low, medium or high');
  const pair = readKeyFile(keyFilePath(values.key));
  const base = registryUrl(values.registry);

  const target = await fetchStatus(base, name, version);
  if (target.mode === 'fast') throw new CountersignError('ECS_USAGE', `${name} is in a fast scope: countersign passes it through unverified, so audits of it are never counted; use publisher signatures in your internal registry`);
  if (!target.sha512) throw new CountersignError('ECS_USAGE', `${name}@${version} publishes no sha512 integrity (${target.integrity ?? 'none'}), so there are no exact bytes to audit`);
  let from: VersionRef | undefined;
  if (values['delta-from'] !== undefined) {
    const earlier = await fetchStatus(base, name, parsePackageSpec(`${name}@${values['delta-from']}`, 'audit').version);
    if (!earlier.sha512) throw new CountersignError('ECS_USAGE', `${name}@${values['delta-from']} publishes no sha512 integrity to chain from`);
    from = { version: earlier.version, sha512: earlier.sha512 };
  }
  const kind: AuditKind = values.violation ? 'violation' : from ? 'delta' : 'full';
  const payload = statementBytes({
    type: 'audit',
    signer: pair.keyid,
    subject: { name, version, sha512: target.sha512 },
    kind,
    criteria,
    from,
    notes: values.notes,
    thoroughness: values.thoroughness as Thoroughness | undefined,
  });
  const envelope = signEnvelope(payload, pair.secretKey, pair.keyid);
  const result = await callJson<{ seq: number; seenAt: string; duplicate: boolean }>(base, 'POST', '/-/countersign/v1/documents', { body: envelope, contentType: 'application/json' });
  process.stdout.write(`${result.duplicate ? 'already recorded' : 'accepted'}: ${kind} audit${criteria.length ? ` (${criteria.join(', ')})` : ''} of ${name}@${version}${from ? ` from ${from.version}` : ''}, sha512 ${target.sha512.slice(0, 16)}…, signed by ${pair.keyid.slice(0, 20)}…, first seen ${result.seenAt}\n`);
  const after = await fetchStatus(base, name, version);
  const audits = after.checks?.find((c) => c.check === 'audits');
  process.stdout.write(`${name}@${version} is now ${after.allowed ? 'served' : `still hidden${audits ? `: ${audits.detail}` : ''}`}\n`);
  return EXIT_OK;
}
