import { MAX_ARRAY_BYTES } from './signature-scan.js';
import type { ScanJob, WorkerResponse } from './signature-worker.js';

/** A registry key as a scan takes it. */
export interface ScanKey {
  readonly keyid: string;
  /** Base64 DER SPKI. */
  readonly key: string;
}

/** A signature found by a scan, with the key it names and whether it verified. */
export interface ScannedResult {
  readonly key: string;
  readonly message: string;
  readonly sig: string;
  readonly valid: boolean;
}

/** Runs one scan job on a worker; undefined when the worker failed (that range then finds nothing). */
export type ScanDispatch = (job: ScanJob) => Promise<WorkerResponse | undefined>;

/** Bytes of body per job: typescript's 10 MB is ten jobs, spread over the workers as they come. */
export const SCAN_JOB_BYTES = 1024 * 1024;
/**
 * A job starts this far before the end of the previous one, so that a signatures array cut by
 * the boundary (at most MAX_ARRAY_BYTES, or the scan ignores it) is read whole by the next job.
 * What both jobs read is verified twice, with the same result.
 */
const OVERLAP_BYTES = MAX_ARRAY_BYTES + 64;

/** ES2024's growable SharedArrayBuffer, in V8 since Node 20; TypeScript's ES2023 lib does not type it. */
interface GrowableSharedArrayBuffer extends SharedArrayBuffer {
  readonly maxByteLength: number;
  grow(length: number): void;
}
const GrowableSharedArrayBuffer = SharedArrayBuffer as unknown as new (length: number, options: { maxByteLength: number }) => GrowableSharedArrayBuffer;

/**
 * Looks for registry signatures in a packument body while it is still arriving. The body is kept,
 * as it arrives, in one growable SharedArrayBuffer (`bytes` hands it over whole at the end, so the
 * caller does not copy the chunks together again), and every ~1 MB received becomes a job: a
 * worker reads that range in place, with the bytes just before it where the version's fields may
 * be, finds the signatures in it and verifies them. When the body is complete, `finish` sends the
 * rest and returns what all the jobs found. A body smaller than `minBytes` is never scanned: its
 * signatures are verified after the parse, as for any packument.
 *
 * Everything found is a guess, kept by the caller under its exact key + message + signature (see
 * signature-scan.ts): a job that fails, or a misread, only leaves more to verify after the parse.
 */
export class StreamingScan {
  readonly #name: string;
  readonly #keys: Promise<readonly ScanKey[]>;
  readonly #dispatch: ScanDispatch;
  readonly #minBytes: number;
  /** The body so far: grows up to the body cap, and only ever in place. */
  readonly #shared: GrowableSharedArrayBuffer;
  #received = 0;
  /** End of the body range already sent to a worker. */
  #sent = 0;
  readonly #jobs: Array<Promise<ScannedResult[]>> = [];

  /** `maxBytes` is the most the body may hold: the caller refuses more before pushing it. */
  constructor(name: string, keys: Promise<readonly ScanKey[]>, dispatch: ScanDispatch, minBytes: number, maxBytes: number) {
    this.#name = name;
    this.#keys = keys;
    this.#dispatch = dispatch;
    this.#minBytes = minBytes;
    // Only what is grown is committed; the rest is address space.
    this.#shared = new GrowableSharedArrayBuffer(0, { maxByteLength: maxBytes });
  }

  push(chunk: Buffer): void {
    const at = this.#received;
    if (at + chunk.length > this.#shared.maxByteLength) {
      throw new RangeError(`StreamingScan: the body is over its ${this.#shared.maxByteLength}-byte cap`);
    }
    this.#shared.grow(at + chunk.length);
    chunk.copy(Buffer.from(this.#shared, at, chunk.length));
    this.#received += chunk.length;
    if (this.#received - this.#sent >= SCAN_JOB_BYTES && this.#received >= this.#minBytes) this.#send();
  }

  /** Everything pushed so far, in shared memory (later pushes do not change it). */
  get bytes(): Buffer {
    return Buffer.from(this.#shared, 0, this.#received);
  }

  /** Sends what is left of a complete body and waits for every job. Never rejects. */
  async finish(): Promise<ScannedResult[]> {
    if (this.#received >= this.#minBytes && this.#received > this.#sent) this.#send();
    const found = await Promise.all(this.#jobs);
    return found.flat();
  }

  /**
   * Sends the range [sent, received) to a worker, from OVERLAP_BYTES earlier. The worker reads
   * the body up to `to` only: those bytes are written, and nothing writes them again.
   */
  #send(): void {
    const from = Math.max(0, this.#sent - OVERLAP_BYTES);
    const to = this.#received;
    this.#sent = to;
    this.#jobs.push(this.#run(from, to));
  }

  async #run(from: number, to: number): Promise<ScannedResult[]> {
    try {
      const keys = await this.#keys;
      if (keys.length === 0) return [];
      const keyids = keys.map((k) => k.keyid);
      const keyDers = keys.map((k) => k.key);
      const answer = await this.#dispatch({ bytes: this.#shared, from, to, name: this.#name, keyids, keys: keyDers });
      return (answer?.found ?? []).map((f, i) => ({ key: keyDers[f.keyIndex]!, message: f.message, sig: f.sig, valid: answer!.results[i] === true }));
    } catch {
      return [];
    }
  }
}
