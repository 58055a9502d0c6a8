import { CountersignError } from '../errors.js';
import { verifyStore } from '../trust/verify-store.js';
import { resolveDataDir, TARGET_OPTIONS } from './admin-target.js';
import { parseCommandArgs } from './args.js';
import { EXIT_FAILED, EXIT_OK } from './exit-codes.js';

export const STORE_HELP = `countersign store verify (--data-dir DIR | --config FILE) [--anchor SEQ:HASH] [--json]

Checks trust.db without trusting it: every link of the hash chain, the recorded head (a deleted
tail), each entry's digest, and every document's Ed25519 signature against the key enrolled
before it. Prints the head (SEQ:HASH); keep it with your backups and pass it as --anchor later
to prove the log was only appended to since. Exit 0 when all holds, 1 when anything does not.
Safe while the server runs.`;

function parseAnchor(text: string | undefined): { seq: number; hash: string } | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+):([0-9a-f]{64})$/.exec(text);
  if (!m) throw new CountersignError('ECS_USAGE', '--anchor must be SEQ:HASH as printed by an earlier countersign store verify');
  return { seq: Number(m[1]), hash: m[2]! };
}

export async function store(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'verify') throw new CountersignError('ECS_USAGE', `countersign store: expected verify${sub === undefined ? '' : ` (got ${JSON.stringify(sub)})`}`);
  const { values } = parseCommandArgs('store verify', rest, { ...TARGET_OPTIONS, anchor: { type: 'string' }, json: { type: 'boolean' } });
  if (values['data-dir'] === undefined && values.config === undefined) throw new CountersignError('ECS_USAGE', 'countersign store verify works on the files: pass --data-dir DIR or --config FILE');
  const anchor = parseAnchor(values.anchor);
  // Resolved like the other admin commands, but the log is not replayed: it is what is checked.
  const report = verifyStore(resolveDataDir(values)!.dataDir, anchor);
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else if (report.problems.length === 0) process.stdout.write(`ok: ${report.path}: ${report.entries} entries (${report.documents} documents), chain and signatures verified; head ${report.head.seq}:${report.head.hash}\n`);
  else process.stdout.write(`FAILED: ${report.path}:\n${report.problems.map((p) => `  ${p}`).join('\n')}\nrestore trust.db from a backup (and find out who changed it)\n`);
  return report.problems.length === 0 ? EXIT_OK : EXIT_FAILED;
}
