import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CountersignError } from '../../errors.js';
import { NPM_KEY_TYPE, parseKeysDocument } from './parse.js';
import type { RegistryKeySet } from '../types.js';

/**
 * The npm registry keys shipped in `@sigstore/tuf`'s `seeds.json`: a TUF target
 * `<host>%2Fkeys.json` holding `{keys: [{keyId, keyUsage, publicKey: {rawBytes, keyDetails, validFor}}]}`.
 * It is a snapshot of the TUF repository taken when that package was released, so it is a fallback
 * for when the upstream's `/-/npm/v1/keys` cannot be fetched, not the freshest source.
 */

const SEED_PACKAGE = '@sigstore/tuf';
const TUF_REPO = 'https://tuf-repo-cdn.sigstore.dev';
const SIGNATURE_USAGE = 'npm:signatures';
const P256_DETAILS = 'PKIX_ECDSA_P256_SHA_256';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unavailable(message: string, cause?: unknown): CountersignError {
  return new CountersignError('ECS_KEYS_UNAVAILABLE', message, { cause });
}

interface SeedPackage {
  readonly version: string;
  readonly seeds: unknown;
}

/**
 * The package's directory, found from its main entry point: an `exports` map (which it does not
 * have today) could hide `seeds.json` and `package.json` from `require.resolve`, never the entry.
 */
function packageDir(): { dir: string; version: unknown } {
  let dir = dirname(createRequire(import.meta.url).resolve(SEED_PACKAGE));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name, version } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown; version?: unknown };
      if (name === SEED_PACKAGE) return { dir, version };
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json named ${SEED_PACKAGE} above its entry point`);
    dir = parent;
  }
}

function readSeedPackage(): SeedPackage {
  try {
    const { dir, version } = packageDir();
    const seeds: unknown = JSON.parse(readFileSync(join(dir, 'seeds.json'), 'utf8'));
    return { version: typeof version === 'string' ? version : 'unknown', seeds };
  } catch (err) {
    throw unavailable(`cannot read the TUF seed of ${SEED_PACKAGE}: ${err instanceof Error ? err.message : String(err)}`, err);
  }
}

function targetOf(seeds: unknown, host: string): string | undefined {
  const repo = isRecord(seeds) ? seeds[TUF_REPO] : undefined;
  const targets = isRecord(repo) ? repo.targets : undefined;
  const target = isRecord(targets) ? targets[encodeURIComponent(`${host}/keys.json`)] : undefined;
  return typeof target === 'string' ? target : undefined;
}

/** Maps one TUF key entry to the `/-/npm/v1/keys` form, or undefined when it is not a signature key. */
function toNpmKeyEntry(raw: unknown): unknown {
  if (!isRecord(raw) || raw.keyUsage !== SIGNATURE_USAGE) return undefined;
  const publicKey = isRecord(raw.publicKey) ? raw.publicKey : {};
  const validFor = isRecord(publicKey.validFor) ? publicKey.validFor : {};
  return {
    keyid: raw.keyId,
    // A key with other details is passed on with that type, so parseKeysDocument skips it and says why.
    keytype: publicKey.keyDetails === P256_DETAILS ? NPM_KEY_TYPE : publicKey.keyDetails,
    scheme: publicKey.keyDetails === P256_DETAILS ? NPM_KEY_TYPE : publicKey.keyDetails,
    key: publicKey.rawBytes,
    expires: validFor.end ?? null,
  };
}

/** The registry signing keys for `host` from the TUF seed in `@sigstore/tuf`. Throws ECS_KEYS_UNAVAILABLE. */
export function tufSeedKeys(host = 'registry.npmjs.org'): RegistryKeySet {
  const { version, seeds } = readSeedPackage();
  const source = `${SEED_PACKAGE} ${version} seed`;
  const target = targetOf(seeds, host);
  if (target === undefined) throw unavailable(`${source} has no registry keys for ${host}`);
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(target, 'base64').toString('utf8'));
  } catch (err) {
    throw unavailable(`${source}: the keys target for ${host} is not base64 JSON`, err);
  }
  const entries = isRecord(document) && Array.isArray(document.keys) ? document.keys : [];
  const keys = entries.map(toNpmKeyEntry).filter((entry) => entry !== undefined);
  return parseKeysDocument({ keys }, source);
}
