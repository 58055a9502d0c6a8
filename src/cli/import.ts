import { readFileSync } from 'node:fs';
import { CountersignError } from '../errors.js';
import { importJsonLines, type ImportReport } from '../trust/import.js';
import { adminTarget, TARGET_HELP, TARGET_OPTIONS, withTarget } from './admin-target.js';
import { parseCommandArgs } from './args.js';
import { EXIT_FAILED, EXIT_OK } from './exit-codes.js';
import { callJson } from './registry-client.js';

export const IMPORT_HELP = `countersign import <file.jsonl>

Imports JSON Lines of signed documents (from countersign export elsewhere). Each line is verified
on its own against the keys enrolled here: a bad line is reported and skipped, the others are
accepted, and documents already present keep their first-seen time. Enrol the signers' keys
first. Exit 1 when any line was refused.
${TARGET_HELP}`;

export async function importDocuments(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('import', argv, { ...TARGET_OPTIONS }, true);
  const file = positionals[0];
  if (file === undefined) throw new CountersignError('ECS_USAGE', 'countersign import: name the JSON Lines file (from countersign export)');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CountersignError('ECS_USAGE', `cannot read ${file}: ${(err as Error).message}`);
  }
  const report = await withTarget(adminTarget(values, { create: true }), async (t) => {
    if (t.kind === 'remote') return callJson<ImportReport>(t.base, 'POST', '/-/countersign/v1/documents', { body: text, contentType: 'application/x-ndjson', token: t.token });
    return importJsonLines(text, (bytes) => t.store.submit(bytes));
  });
  for (const r of report.rejected) process.stdout.write(`${file}:${r.line}: skipped: ${r.error} [${r.code}]\n`);
  process.stdout.write(`imported ${report.accepted} documents, ${report.duplicates} already present, ${report.rejected.length} refused\n`);
  return report.rejected.length > 0 ? EXIT_FAILED : EXIT_OK;
}
