import { constants } from 'node:zlib';
import { parallelGzip } from './parallel-gzip.js';

/** Below this, gzip saves too little to be worth a CPU cycle. */
const GZIP_MIN_BYTES = 1024;

/**
 * One serialized form of a packument (full or abbreviated), with its ETag and a gzip copy made on
 * first demand and then kept, so that a warm request only writes cached bytes.
 */
export class Variant {
  readonly identity: Buffer;
  readonly etag: string;
  /** The ETag of the gzip copy. */
  readonly gzipEtag: string;
  readonly contentType: string;
  #gzip: Buffer | undefined;
  #gzipping: Promise<Buffer> | undefined;

  constructor(body: Buffer, tag: string, contentType: string) {
    this.identity = body;
    this.etag = `"${tag}"`;
    this.gzipEtag = `"${tag}-gz"`;
    this.contentType = contentType;
  }

  get compressible(): boolean {
    return this.identity.length >= GZIP_MIN_BYTES;
  }

  /** Bytes held, counting the gzip copy (or a quarter of the body for the copy still to come). */
  get size(): number {
    return this.identity.length + (this.#gzip?.length ?? (this.compressible ? this.identity.length >> 2 : 0));
  }

  /** The gzip copy if it exists already (no await on the hot path). */
  get gzipped(): Buffer | undefined {
    return this.#gzip;
  }

  gzip(): Promise<Buffer> {
    if (this.#gzip) return Promise.resolve(this.#gzip);
    this.#gzipping ??= parallelGzip(this.identity, constants.Z_DEFAULT_COMPRESSION).then((buf) => {
      this.#gzip = buf;
      this.#gzipping = undefined;
      return buf;
    });
    return this.#gzipping;
  }
}
