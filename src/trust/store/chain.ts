import { createHash } from 'node:crypto';

/** The `prev_hash` of the first entry. */
export const GENESIS = '0'.repeat(64);

/** What the chain commits to for one entry. */
export interface ChainFields {
  readonly seq: number;
  readonly kind: string;
  readonly seenAt: number;
  readonly body: Uint8Array;
}

/**
 * An entry's hash: sha256 over the previous entry's hash, its position, kind, trusted time and
 * the sha256 of its body. Editing any of them, or removing an entry, breaks every later link.
 */
export function entryHash(prevHash: string, entry: ChainFields): string {
  const bodyHash = createHash('sha256').update(entry.body).digest('hex');
  return createHash('sha256').update(`countersign-entry-v1\n${prevHash}\n${entry.seq}\n${entry.kind}\n${entry.seenAt}\n${bodyHash}`).digest('hex');
}

export interface StoredLink extends ChainFields {
  readonly prevHash: string;
  readonly hash: string;
}

export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/** Walks stored entries in order and reports the first break (pure; the store supplies the rows). */
export class ChainWalker {
  #expectedSeq = 1;
  #prev = GENESIS;
  readonly problems: string[] = [];

  /** Returns false once a problem was found (later entries cannot be trusted either). */
  next(link: StoredLink): boolean {
    if (link.seq !== this.#expectedSeq) {
      this.problems.push(link.seq > this.#expectedSeq ? `entries ${this.#expectedSeq}..${link.seq - 1} are missing (deleted?)` : `entry ${link.seq} is out of order`);
      return false;
    }
    if (link.prevHash !== this.#prev) {
      this.problems.push(`entry ${link.seq} does not link to entry ${link.seq - 1} (an earlier entry was edited or replaced)`);
      return false;
    }
    if (entryHash(link.prevHash, link) !== link.hash) {
      this.problems.push(`entry ${link.seq} was edited: its hash does not match its content`);
      return false;
    }
    this.#prev = link.hash;
    this.#expectedSeq++;
    return true;
  }

  /** The last good link. */
  get head(): ChainHead {
    return { seq: this.#expectedSeq - 1, hash: this.#prev };
  }

  /** Checks the end of the walk against the head recorded beside the log (catches a deleted tail). */
  finish(recorded: ChainHead): void {
    if (this.problems.length > 0) return;
    const { seq, hash } = this.head;
    if (recorded.seq !== seq || recorded.hash !== hash) {
      this.problems.push(recorded.seq > seq
        ? `the log ends at entry ${seq} but entry ${recorded.seq} was recorded: entries were deleted`
        : `the recorded head (entry ${recorded.seq}) does not match the log (entry ${seq}, ${hash.slice(0, 12)}…)`);
    }
  }
}
