import type { UpstreamConfig } from '../config/types.js';
import { isCountersignError } from '../errors.js';
import { loadKeysFile } from '../verify/keys/file.js';
import { parseKeysDocument } from '../verify/keys/parse.js';
import { tufSeedKeys } from '../verify/keys/tuf-seed.js';
import type { RegistryKeySet } from '../verify/types.js';
import { readCapped, decodedBody, type UpstreamClient } from './client.js';

const REFRESH_MS = 60 * 60_000; // keys change rarely: refetch hourly
const RETRY_MS = 30_000; // after a failed fetch, do not ask again for every packument
const MAX_KEYS_BYTES = 256 * 1024;

interface Slot {
  keys: RegistryKeySet | undefined;
  fetchedAt: number;
  failedAt: number;
  pending: Promise<RegistryKeySet | undefined> | undefined;
}

export type KeysLog = (message: string, fields: Record<string, unknown>) => void;

/**
 * Registry signing keys per upstream, from the source its config names: pinned file, the TUF seed
 * in @sigstore/tuf, or the upstream's own `/-/npm/v1/keys` (refreshed hourly, last good copy kept).
 * `undefined` means "no keys": the signature check then says `no-keys` and the policy decides.
 */
export class RegistryKeys {
  readonly #client: UpstreamClient;
  readonly #log: KeysLog;
  readonly #slots = new Map<string, Slot>();
  readonly #fixed = new Map<string, RegistryKeySet | undefined>();

  private constructor(client: UpstreamClient, log: KeysLog) {
    this.#client = client;
    this.#log = log;
  }

  /** Loads pinned and TUF keys now, so a bad keys file stops start-up rather than hiding everything. */
  static async open(client: UpstreamClient, upstreams: Iterable<UpstreamConfig>, log: KeysLog): Promise<RegistryKeys> {
    const keys = new RegistryKeys(client, log);
    for (const u of upstreams) {
      const source = resolveSource(u);
      if (source === 'file' && u.keys.kind === 'file') keys.#fixed.set(u.name, await loadKeysFile(u.keys.path));
      else if (source === 'tuf') keys.#fixed.set(u.name, tufSeedKeys(new URL(u.url).hostname));
      else if (source === 'none') keys.#fixed.set(u.name, undefined);
    }
    return keys;
  }

  async keysFor(upstream: UpstreamConfig, now = Date.now()): Promise<RegistryKeySet | undefined> {
    if (this.#fixed.has(upstream.name)) return this.#fixed.get(upstream.name);
    let slot = this.#slots.get(upstream.name);
    if (!slot) {
      slot = { keys: undefined, fetchedAt: 0, failedAt: 0, pending: undefined };
      this.#slots.set(upstream.name, slot);
    }
    const fresh = slot.keys !== undefined && now - slot.fetchedAt < REFRESH_MS;
    const backingOff = now - slot.failedAt < RETRY_MS;
    if (fresh || backingOff) return slot.keys;
    slot.pending ??= this.#fetch(upstream, slot).finally(() => {
      slot.pending = undefined;
    });
    return slot.pending;
  }

  async #fetch(upstream: UpstreamConfig, slot: Slot): Promise<RegistryKeySet | undefined> {
    const url = `${upstream.url}-/npm/v1/keys`;
    try {
      const response = await this.#client.request(upstream.name, url, {
        headers: { accept: 'application/json', 'accept-encoding': 'gzip' },
        what: 'the registry signing keys',
        kind: 'keys',
      });
      if (response.statusCode !== 200) {
        response.body.resume();
        throw new Error(`${url} answered ${response.statusCode}`);
      }
      const body = await readCapped(decodedBody(response), MAX_KEYS_BYTES, upstream.name, 'the registry signing keys', `a fixed ${MAX_KEYS_BYTES}-byte limit`);
      slot.keys = parseKeysDocument(JSON.parse(body.toString('utf8')), url);
      slot.fetchedAt = Date.now();
      return slot.keys;
    } catch (err) {
      slot.failedAt = Date.now();
      this.#log('cannot fetch registry keys; keeping the last good copy', {
        upstream: upstream.name,
        url,
        code: isCountersignError(err) ? err.code : undefined,
        error: err instanceof Error ? err.message : String(err),
        kept: slot.keys !== undefined,
      });
      return slot.keys;
    }
  }
}

/** `auto` = the TUF seed for registry.npmjs.org (no network), the upstream's endpoint otherwise. */
function resolveSource(u: UpstreamConfig): 'file' | 'tuf' | 'upstream' | 'none' {
  switch (u.keys.kind) {
    case 'auto':
      return new URL(u.url).hostname === 'registry.npmjs.org' ? 'tuf' : 'upstream';
    default:
      return u.keys.kind;
  }
}
