import { LRUCache } from 'lru-cache';
import type { VersionFacts } from '../registry/types.js';

/**
 * Versions whose tarball failed verification when we downloaded it: exactly name@version with that
 * published integrity. Such a version is hidden until the upstream publishes a tarball that
 * matches (which a new integrity would express) or the record ages out of this bounded set.
 */
export class TamperRecords {
  readonly #records = new LRUCache<string, number>({ max: 10_000 });
  readonly #epochs = new Map<string, number>();
  #changes = 0;

  static key(facts: Pick<VersionFacts, 'name' | 'version' | 'integrity'>): string {
    return `${facts.name}@${facts.version}:${facts.integrity ?? ''}`;
  }

  record(facts: Pick<VersionFacts, 'name' | 'version' | 'integrity'>, at = Date.now()): void {
    this.#records.set(TamperRecords.key(facts), at);
    this.#epochs.set(facts.name, (this.#epochs.get(facts.name) ?? 0) + 1);
    this.#changes++;
  }

  has(facts: Pick<VersionFacts, 'name' | 'version' | 'integrity'>): boolean {
    return this.#records.has(TamperRecords.key(facts));
  }

  /** Changes each time a record is added for `name`; part of the decision cache key. */
  epochFor(name: string): number {
    return this.#epochs.get(name) ?? 0;
  }

  /** Records added so far: grows whenever any epochFor changes. */
  get changes(): number {
    return this.#changes;
  }
}
