/**
 * Results of signature verifications, each under its exact triple: the key (base64 DER SPKI, the
 * key material itself, not its id), the message and the signature. A result is only ever reused
 * for that same triple: a valid signature copied onto another version has another message.
 *
 * Kept by signature: the signature strings come straight from `JSON.parse` and hash once, where a
 * joined `key + message + sig` string would be built and hashed for every lookup (~3,500 of them
 * on a cold 10 MB packument).
 */
interface Result {
  readonly key: string;
  readonly message: string;
  valid: boolean;
  /** Another result with the same signature (a signature copied onto another version). */
  next: Result | undefined;
}

/** A signature, the key it names and the message it covers. */
export interface SignedMessage {
  readonly key: string;
  readonly message: string;
  readonly sig: string;
}

export class SignatureResults {
  readonly #bySig = new Map<string, Result>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(key: string, message: string, sig: string): boolean | undefined {
    for (let r = this.#bySig.get(sig); r !== undefined; r = r.next) {
      if (r.key === key && r.message === message) return r.valid;
    }
    return undefined;
  }

  has(key: string, message: string, sig: string): boolean {
    return this.get(key, message, sig) !== undefined;
  }

  set(key: string, message: string, sig: string, valid: boolean): void {
    const first = this.#bySig.get(sig);
    for (let r = first; r !== undefined; r = r.next) {
      if (r.key === key && r.message === message) {
        r.valid = valid;
        return;
      }
    }
    this.#bySig.set(sig, { key, message, valid, next: first });
    this.#size++;
  }

  /** Drops every result but those of `live` (the signatures a packument still has). */
  retainOnly(live: Iterable<SignedMessage>): void {
    const kept = new SignatureResults();
    for (const { key, message, sig } of live) {
      const valid = this.get(key, message, sig);
      if (valid !== undefined) kept.set(key, message, sig, valid);
    }
    this.#bySig.clear();
    for (const [sig, r] of kept.#bySig) this.#bySig.set(sig, r);
    this.#size = kept.#size;
  }
}
