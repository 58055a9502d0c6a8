import { constants } from 'node:zlib';
import { parallelGzip } from './parallel-gzip.js';

/** Below this, gzip saves too little to be worth a CPU cycle. */
const GZIP_MIN_BYTES = 1024;
/**
 * From this size on, the first gzip copy of a form is made at zlib's fastest level, for the
 * request waiting on it, and the copy made at the default level once the form is asked for again.
 * The 10 MB typescript full form: ~35 ms of CPU and 0.72 MB at level 1 against ~76 ms and 0.52 MB
 * at level 6, at the end of a cold request that is CPU-bound on two cores.
 */
const FAST_FIRST_GZIP_BYTES = 1024 * 1024;

/** A gzip copy of a form and the ETag that names its bytes. */
export interface GzipCopy {
  readonly body: Buffer;
  readonly etag: string;
}

/**
 * One serialized form of a packument (full or abbreviated), with its ETag and a gzip copy made on
 * first demand and then kept, so that a warm request only writes cached bytes.
 */
export class Variant {
  readonly identity: Buffer;
  readonly etag: string;
  readonly contentType: string;
  /** The ETag of the gzip copy at the default level, and of the fast first copy of a large form. */
  readonly #gzipEtag: string;
  readonly #fastGzipEtag: string;
  #gzip: GzipCopy | undefined;
  #gzipping: Promise<GzipCopy> | undefined;
  /** The fast copy was served once already: the next serve starts the default-level copy. */
  #fastServed = false;

  constructor(body: Buffer, tag: string, contentType: string) {
    this.identity = body;
    this.etag = `"${tag}"`;
    this.#gzipEtag = `"${tag}-gz"`;
    this.#fastGzipEtag = `"${tag}-gzf"`;
    this.contentType = contentType;
  }

  get compressible(): boolean {
    return this.identity.length >= GZIP_MIN_BYTES;
  }

  /** Bytes held, counting the gzip copy (or a quarter of the body for the copy still to come). */
  get size(): number {
    return this.identity.length + (this.#gzip?.body.length ?? (this.compressible ? this.identity.length >> 2 : 0));
  }

  /**
   * Whether `etag` names this form's content in any encoding: its identity bytes, or any gzip copy
   * it has had or will have (they all decode to the identity bytes).
   */
  isCurrentEtag(etag: string): boolean {
    return etag === this.etag || etag === this.#gzipEtag || etag === this.#fastGzipEtag;
  }

  /** The ETag the gzip copy being served has, or the one made next will have. */
  get gzipEtag(): string {
    return this.#gzip?.etag ?? (this.#fast ? this.#fastGzipEtag : this.#gzipEtag);
  }

  /**
   * The gzip copy if it exists already (no await on the hot path), for a response about to be
   * written. When the copy is the fast one and it was served before, the default-level copy is
   * started on the thread pool; it replaces the fast one when done.
   */
  servableGzip(): GzipCopy | undefined {
    const copy = this.#gzip;
    if (copy !== undefined && copy.etag === this.#fastGzipEtag) {
      // Should that fail, the fast copy stays, and the next serve tries again.
      if (this.#fastServed && this.#gzipping === undefined) this.#compress(constants.Z_DEFAULT_COMPRESSION, this.#gzipEtag).catch(() => undefined);
      this.#fastServed = true;
    }
    return copy;
  }

  /**
   * The gzip copy for a response about to be written, made now if there is none: at the fastest
   * level for a large form (a request is waiting on it).
   */
  gzip(): Promise<GzipCopy> {
    const ready = this.servableGzip();
    if (ready) return Promise.resolve(ready);
    return this.#first().then((copy) => {
      if (copy.etag === this.#fastGzipEtag) this.#fastServed = true;
      return copy;
    });
  }

  #first(): Promise<GzipCopy> {
    return (this.#gzipping ??= this.#fast ? this.#compress(constants.Z_BEST_SPEED, this.#fastGzipEtag) : this.#compress(constants.Z_DEFAULT_COMPRESSION, this.#gzipEtag));
  }

  get #fast(): boolean {
    return this.identity.length >= FAST_FIRST_GZIP_BYTES;
  }

  #compress(level: number, etag: string): Promise<GzipCopy> {
    const made = parallelGzip(this.identity, level).then(
      (body) => {
        this.#gzip = { body, etag };
        this.#gzipping = undefined;
        return this.#gzip;
      },
      (err: unknown) => {
        this.#gzipping = undefined;
        throw err;
      },
    );
    this.#gzipping = made;
    return made;
  }
}
