/**
 * Runs one operation per key at a time: concurrent callers for the same key share the first
 * caller's promise. Keeps 64 simultaneous cold requests for a 10 MB packument from parsing it 64
 * times.
 */
export class SingleFlight<T> {
  readonly #inFlight = new Map<string, Promise<T>>();

  run(key: string, operation: () => Promise<T>): Promise<T> {
    const running = this.#inFlight.get(key);
    if (running) return running;
    const promise = operation().finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, promise);
    return promise;
  }

  get size(): number {
    return this.#inFlight.size;
  }
}
