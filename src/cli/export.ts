import { createWriteStream, type WriteStream } from 'node:fs';
import { CountersignError } from '../errors.js';
import { adminTarget, TARGET_OPTIONS, withTarget } from './admin-target.js';
import { parseCommandArgs } from './args.js';
import { EXIT_OK } from './exit-codes.js';
import { call, registryUrl } from './registry-client.js';

export const EXPORT_HELP = `countersign export [--out FILE] [--name PACKAGE] [--since SEQ] [--registry URL | --data-dir DIR | --config FILE]

Writes the signed documents (audits, publisher signatures, self-revocations) as JSON Lines of
DSSE envelopes, in the order they were first seen, to FILE or stdout. Another installation
imports them with countersign import and verifies each one itself; key enrolments stay local.
Reading from a running server needs no token.`;

function write(out: WriteStream | NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => out.write(text, (err) => (err ? reject(err) : resolve())));
}

export async function exportDocuments(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('export', argv, { ...TARGET_OPTIONS, out: { type: 'string', short: 'o' }, name: { type: 'string' }, since: { type: 'string' } });
  const since = values.since ?? '0';
  if (!/^\d+$/.test(since)) throw new CountersignError('ECS_USAGE', '--since must be a log sequence number');
  const out = values.out === undefined ? process.stdout : createWriteStream(values.out);
  let count = 0;
  const local = values['data-dir'] !== undefined || values.config !== undefined;
  if (local) {
    await withTarget(adminTarget(values, { create: false }), async (t) => {
      if (t.kind !== 'local') return;
      for await (const { line } of t.store.exportLines({ since: Number(since), ...(values.name !== undefined ? { name: values.name } : {}) })) {
        await write(out, `${line}\n`);
        count++;
      }
    });
  } else {
    const query = new URLSearchParams({ since, ...(values.name !== undefined ? { name: values.name } : {}) });
    const reply = await call(registryUrl(values.registry), 'GET', `/-/countersign/v1/documents?${query.toString()}`);
    await write(out, reply.text);
    count = reply.text.split('\n').filter(Boolean).length;
  }
  if (out !== process.stdout) await new Promise<void>((resolve) => (out as WriteStream).end(resolve));
  process.stderr.write(`exported ${count} documents\n`);
  return EXIT_OK;
}
