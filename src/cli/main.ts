#!/usr/bin/env node
import { isCountersignError } from '../errors.js';
import { VERSION } from '../version.js';
import { serve, SERVE_HELP } from './serve.js';

/** Exit codes: 0 ok, 1 verification failed, 2 usage or config error. */
type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { run: Command; help: string }> = {
  serve: { run: serve, help: SERVE_HELP },
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
      // Bad input from the person at the keyboard (arguments, config) is exit 2.
      const usageCodes = new Set(['ECS_USAGE', 'ECS_CONFIG_INVALID', 'ECS_CONFIG_NOT_FOUND', 'ECS_KEYS_UNAVAILABLE']);
      process.exitCode = usageCodes.has(err.code) ? 2 : 1;
      return;
    }
    process.stderr.write(`countersign: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
