import { readFileSync } from 'node:fs';
import { CountersignError, isCountersignError } from '../errors.js';
import { parseCommandArgs } from './args.js';
import { EXIT_FAILED, EXIT_OK } from './exit-codes.js';
import { call, registryUrl } from './registry-client.js';

export const SUBMIT_HELP = `countersign submit <file>... [--registry URL]

Submits signed documents (an envelope per file, or JSON Lines of them) to countersign, one by one,
and says for each whether it was accepted. Submissions are rate-limited per client; for a large
batch an admin uses countersign import. Exit 1 when any document was refused.`;

/** One envelope, or JSON Lines of envelopes. */
export function documentsIn(text: string): string[] {
  try {
    JSON.parse(text);
    return [text];
  } catch {
    return text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  }
}

export async function submit(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('submit', argv, { registry: { type: 'string' } }, true);
  if (positionals.length === 0) throw new CountersignError('ECS_USAGE', 'countersign submit: name the files holding signed documents (from countersign sign --out, or an export)');
  const base = registryUrl(values.registry);
  let refused = 0;
  for (const file of positionals) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new CountersignError('ECS_USAGE', `cannot read ${file}: ${(err as Error).message}`);
    }
    const docs = documentsIn(text);
    for (const [i, doc] of docs.entries()) {
      const where = docs.length > 1 ? `${file}:${i + 1}` : file;
      try {
        const reply = await call(base, 'POST', '/-/countersign/v1/documents', { body: doc, contentType: 'application/json' });
        const r = JSON.parse(reply.text) as { duplicate: boolean; type: string; name?: string; version?: string; keyid?: string };
        process.stdout.write(`${where}: ${r.duplicate ? 'already recorded' : 'accepted'} (${r.type} ${r.name ? `${r.name}@${r.version}` : r.keyid})\n`);
      } catch (err) {
        if (!isCountersignError(err) || err.code === 'ECS_REGISTRY_UNREACHABLE' || err.code === 'ECS_RATE_LIMITED') throw err;
        refused++;
        process.stdout.write(`${where}: refused: ${err.message} [${err.code}]\n`);
      }
    }
  }
  return refused > 0 ? EXIT_FAILED : EXIT_OK;
}
