/** What a response carries to be linked into OpenResponses. */
export interface Linkable {
  openPrev: Linkable | undefined;
  openNext: Linkable | undefined;
  isOpen: boolean;
}

/**
 * The responses not finished yet, so that shutdown can end their keep-alive connections with
 * them. Linked through fields of the responses themselves: adding and removing allocate nothing.
 * A Set did the same, but a Set that a server fills and empties with every burst of requests
 * rehashes each time it grows or shrinks (~0.4 µs a request at 20 connections).
 */
export class OpenResponses<T extends Linkable> {
  #head: T | undefined;

  add(res: T): void {
    if (res.isOpen) return;
    res.isOpen = true;
    res.openPrev = undefined;
    res.openNext = this.#head;
    if (this.#head !== undefined) this.#head.openPrev = res;
    this.#head = res;
  }

  delete(res: T): void {
    if (!res.isOpen) return;
    res.isOpen = false;
    const { openPrev: prev, openNext: next } = res;
    if (prev === undefined) this.#head = next as T | undefined;
    else prev.openNext = next;
    if (next !== undefined) next.openPrev = prev;
    res.openPrev = undefined;
    res.openNext = undefined;
  }

  /** A copy, so that the caller may add or delete while it goes through them. */
  snapshot(): T[] {
    const all: T[] = [];
    for (let res = this.#head; res !== undefined; res = res.openNext as T | undefined) all.push(res);
    return all;
  }
}
