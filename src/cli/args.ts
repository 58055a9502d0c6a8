import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CountersignError } from '../errors.js';

/** node:util parseArgs, with its errors turned into ECS_USAGE (exit 2) naming the command. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  argv: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    throw new CountersignError('ECS_USAGE', `countersign ${command}: ${(err as Error).message} (see countersign help)`);
  }
}
