import type { UpstreamConfig } from '../config/types.js';
import type { CompiledPolicy } from '../policy/types.js';
import type { UpstreamClient } from '../upstream/client.js';

export type TarballOrigin = { readonly upstream: UpstreamConfig } | { readonly refused: string };

/**
 * Where a verified version's tarball may be fetched from: a configured upstream on the origin
 * that dist.tarball names, the rule's own upstream first. Never the registry of a fast scope
 * (unless it is the rule's own): that registry and its token serve the names of its fast rules,
 * not URLs that public metadata chooses.
 */
export class TarballOrigins {
  readonly #client: UpstreamClient;
  /** Upstreams that a fast rule uses. */
  readonly #fast: ReadonlySet<string>;

  constructor(client: UpstreamClient, policy: CompiledPolicy) {
    this.#client = client;
    this.#fast = new Set(policy.rules.filter((r) => r.mode === 'fast').map((r) => r.upstream));
  }

  resolve(tarball: string | undefined, ruleUpstream: string): TarballOrigin {
    if (tarball === undefined) return { refused: 'it has no dist.tarball' };
    const candidates = this.#client.upstreamsForUrl(tarball);
    const own = candidates.find((u) => u.name === ruleUpstream);
    if (own) return { upstream: own };
    const allowed = candidates.find((u) => !this.#fast.has(u.name));
    if (allowed) return { upstream: allowed };
    if (candidates.length > 0) return { refused: `dist.tarball is on ${originOf(tarball)}, but upstream ${candidates[0]!.name} serves fast-scope names only` };
    return { refused: `dist.tarball is not on a configured upstream (${originOf(tarball)})` };
  }
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'not a URL';
  }
}
