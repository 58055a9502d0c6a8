#!/usr/bin/env node
import { isCountersignError } from '../errors.js';
import { VERSION } from '../version.js';
import { audit, AUDIT_HELP } from './audit.js';
import { baseline, BASELINE_HELP } from './baseline.js';
import { exitCodeFor } from './exit-codes.js';
import { exportDocuments, EXPORT_HELP } from './export.js';
import { importDocuments, IMPORT_HELP } from './import.js';
import { keygen, KEYGEN_HELP } from './keygen.js';
import { keys, KEYS_HELP } from './keys.js';
import { queue, QUEUE_HELP } from './queue.js';
import { serve, SERVE_HELP } from './serve.js';
import { sign, SIGN_HELP } from './sign.js';
import { status, STATUS_HELP } from './status.js';
import { store, STORE_HELP } from './store.js';
import { submit, SUBMIT_HELP } from './submit.js';

/** Exit codes: 0 ok, 1 verification failed, 2 usage or config error. */
type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { run: Command; help: string }> = {
  serve: { run: serve, help: SERVE_HELP },
  keygen: { run: keygen, help: KEYGEN_HELP },
  audit: { run: audit, help: AUDIT_HELP },
  sign: { run: sign, help: SIGN_HELP },
  submit: { run: submit, help: SUBMIT_HELP },
  status: { run: status, help: STATUS_HELP },
  queue: { run: queue, help: QUEUE_HELP },
  keys: { run: keys, help: KEYS_HELP },
  baseline: { run: baseline, help: BASELINE_HELP },
  export: { run: exportDocuments, help: EXPORT_HELP },
  import: { run: importDocuments, help: IMPORT_HELP },
  store: { run: store, help: STORE_HELP },
};

function usage(): string {
  return [
    `countersign ${VERSION} — a private, verifying npm registry proxy`,
    '',
    'Commands:',
    ...Object.values(COMMANDS).map((c) => `  ${c.help.split('\n')[0]}`),
    '',
    'countersign help <command> shows the details of one command.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    const topic = rest[0] === undefined ? undefined : COMMANDS[rest[0]];
    process.stdout.write(`${topic ? topic.help : usage()}\n`);
    return 0;
  }
  if (command === '--version' || command === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    process.stderr.write(`countersign: unknown command "${command}"\n\n${usage()}\n`);
    return 2;
  }
  return entry.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (isCountersignError(err)) {
      process.stderr.write(`countersign: ${err.message}\n`);
      // Bad input from the person at the keyboard (arguments, config, URL, token) is exit 2.
      process.exitCode = exitCodeFor(err.code);
      return;
    }
    process.stderr.write(`countersign: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
