import { resolve } from 'node:path';
import { loadConfig, resolveTrust } from '../config/load.js';
import type { TrustConfig } from '../config/types.js';
import { TrustStore } from '../trust/trust-store.js';
import { adminToken, registryUrl } from './registry-client.js';

/** Options of commands that work on the server's data dir or through its admin API. */
export const TARGET_OPTIONS = {
  registry: { type: 'string' },
  'data-dir': { type: 'string' },
  config: { type: 'string', short: 'c' },
} as const;

export const TARGET_HELP = `Where: --data-dir DIR or --config FILE work on the server's trust store directly (on the
server's host; a running server picks the change up within a second). Otherwise the command goes
to the admin API of --registry URL (default COUNTERSIGN_URL, else http://localhost:4874/) with
the token in COUNTERSIGN_ADMIN_TOKEN.`;

export type Target =
  | { readonly kind: 'local'; readonly store: TrustStore }
  | { readonly kind: 'remote'; readonly base: string; readonly token: string };

export interface TargetValues {
  readonly registry?: string | undefined;
  readonly 'data-dir'?: string | undefined;
  readonly config?: string | undefined;
}

/** The data dir named by --data-dir / --config / COUNTERSIGN_DATA_DIR, with the trust limits that go with it. */
export function resolveDataDir(values: TargetValues, env: NodeJS.ProcessEnv = process.env): { dataDir: string; trust: TrustConfig } | undefined {
  const dataDirFlag = values['data-dir'] ?? (values.config === undefined && values.registry === undefined ? env.COUNTERSIGN_DATA_DIR || undefined : undefined);
  if (values.config === undefined && dataDirFlag === undefined) return undefined;
  const config = values.config === undefined ? undefined : loadConfig({ file: values.config, env });
  return { dataDir: dataDirFlag !== undefined ? resolve(dataDirFlag) : config!.server.dataDir, trust: config?.trust ?? resolveTrust() };
}

/** Local store when a data dir is named, else the remote admin API (which needs the token). */
export function adminTarget(values: TargetValues, options: { create: boolean; env?: NodeJS.ProcessEnv }): Target {
  const env = options.env ?? process.env;
  const local = resolveDataDir(values, env);
  if (local) return { kind: 'local', store: TrustStore.open({ ...local, create: options.create }) };
  return { kind: 'remote', base: registryUrl(values.registry, env), token: adminToken(env) };
}

/** Runs `fn` and closes a local store afterwards. */
export async function withTarget<T>(target: Target, fn: (target: Target) => Promise<T>): Promise<T> {
  try {
    return await fn(target);
  } finally {
    if (target.kind === 'local') target.store.close();
  }
}
