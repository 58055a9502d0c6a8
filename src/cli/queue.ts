import { CountersignError } from '../errors.js';
import { parseCommandArgs } from './args.js';
import { EXIT_OK } from './exit-codes.js';
import { callJson, registryUrl } from './registry-client.js';

export const QUEUE_HELP = `countersign queue [--registry URL] [--limit N] [--json]

Hidden versions that clients asked for, most wanted first (distinct clients, then requests), with
why each is hidden and the nearest audited version of the same package: the smallest diff to
review. Audit one with countersign audit name@version [--delta-from VERSION].`;

interface QueueJson {
  total: number;
  entries: Array<{ name: string; version: string; clients: number; requests: number; lastAsked: string; reasons: string[]; stale: boolean; nearestAudited: { version: string } | null }>;
}

export async function queue(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('queue', argv, { registry: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } });
  const limit = values.limit ?? '50';
  if (!/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > 1000) throw new CountersignError('ECS_USAGE', '--limit must be a number from 1 to 1000');
  const q = await callJson<QueueJson>(registryUrl(values.registry), 'GET', `/-/countersign/v1/queue?limit=${limit}`);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(q, null, 2)}\n`);
    return EXIT_OK;
  }
  if (q.entries.length === 0) {
    process.stdout.write('the audit queue is empty: no client asked for a hidden version\n');
    return EXIT_OK;
  }
  process.stdout.write(`${'clients'.padStart(7)} ${'requests'.padStart(8)}  version${' '.repeat(33)}hidden because        nearest audited\n`);
  for (const e of q.entries) {
    const spec = `${e.name}@${e.version}`;
    const next = e.nearestAudited ? `${e.nearestAudited.version} (countersign audit ${spec} --delta-from ${e.nearestAudited.version})` : `none (countersign audit ${spec})`;
    process.stdout.write(`${String(e.clients).padStart(7)} ${String(e.requests).padStart(8)}  ${spec.padEnd(40)}${(e.reasons.join(',') + (e.stale ? '?' : '')).padEnd(22)}${next}\n`);
  }
  if (q.total > q.entries.length) process.stdout.write(`… ${q.total - q.entries.length} more (--limit)\n`);
  return EXIT_OK;
}
