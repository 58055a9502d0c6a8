import { readFile } from 'node:fs/promises';
import { CountersignError } from '../../errors.js';
import { parseKeysDocument } from './parse.js';
import type { RegistryKeySet } from '../types.js';

/** Registry keys pinned in a file, in the `/-/npm/v1/keys` form. Throws ECS_KEYS_UNAVAILABLE. */
export async function loadKeysFile(path: string): Promise<RegistryKeySet> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new CountersignError('ECS_KEYS_UNAVAILABLE', `cannot read registry keys from ${path}: ${why}`, { cause: err, details: { path } });
  }
  return parseKeysDocument(json, path);
}
