import { constants, gunzipSync, gzip } from 'node:zlib';
import { ZLIB_CHUNK_BYTES } from '../zlib-chunk.js';

/** Below this, compressing saves too little to be worth it. */
const PACK_MIN_BYTES = 4096;

/**
 * An upstream packument body kept for later re-reads (another public URL, a new trust-store epoch,
 * a form not rendered yet, one version's manifest). Once it has been used it is gzip-compressed on
 * the thread pool and the plain copy dropped: packument JSON shrinks 6–10×, and re-reading the
 * 10 MB typescript packument then costs ~20 ms of gunzip, on paths that parse it anyway.
 */
export class PackedBody {
  /** Uncompressed length. */
  readonly length: number;
  #plain: Buffer | undefined;
  #packed: Buffer | undefined;
  #packing = false;

  constructor(plain: Buffer) {
    this.length = plain.length;
    this.#plain = plain;
  }

  /** Bytes held now. */
  get size(): number {
    return this.#plain?.length ?? this.#packed?.length ?? 0;
  }

  /** The body as received. */
  bytes(): Buffer {
    return this.#plain ?? gunzipSync(this.#packed!);
  }

  /** Starts compressing; `packed` runs once only the compressed copy is held. Failures keep the plain copy. */
  pack(packed?: () => void): void {
    const plain = this.#plain;
    if (plain === undefined || this.#packing || plain.length < PACK_MIN_BYTES) return;
    this.#packing = true;
    gzip(plain, { level: constants.Z_BEST_SPEED, chunkSize: ZLIB_CHUNK_BYTES }, (err, out) => {
      this.#packing = false;
      if (err) return;
      this.#packed = out;
      this.#plain = undefined;
      packed?.();
    });
  }
}
