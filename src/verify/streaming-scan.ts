import { LOOKBEHIND_BYTES, MAX_ARRAY_BYTES } from './signature-scan.js';
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

/**
 * Looks for registry signatures in a packument body while it is still arriving: every ~1 MB
 * received goes to a worker (copied into shared memory with the bytes just before it, where the
 * version's fields may be), which finds the signatures in it and verifies them. When the body
 * is complete, `finish` sends the rest and returns what all the jobs found. A body smaller than
 * `minBytes` is never scanned: its signatures are verified after the parse, as for any packument.
 *
 * Everything found is a guess, kept by the caller under its exact key + message + signature (see
 * signature-scan.ts): a job that fails, or a misread, only leaves more to verify after the parse.
 */
export class StreamingScan {
  readonly #name: string;
  readonly #keys: Promise<readonly ScanKey[]>;
  readonly #dispatch: ScanDispatch;
  readonly #minBytes: number;
  /** Received chunks still needed for a job, and the offset of the first one in the body. */
  #chunks: Buffer[] = [];
  #chunksStart = 0;
  #received = 0;
  /** End of the body range already sent to a worker. */
  #sent = 0;
  readonly #jobs: Array<Promise<ScannedResult[]>> = [];

  constructor(name: string, keys: Promise<readonly ScanKey[]>, dispatch: ScanDispatch, minBytes: number) {
    this.#name = name;
    this.#keys = keys;
    this.#dispatch = dispatch;
    this.#minBytes = minBytes;
  }

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#received += chunk.length;
    if (this.#received - this.#sent >= SCAN_JOB_BYTES && this.#received >= this.#minBytes) this.#send();
  }

  /** Sends what is left of a complete body and waits for every job. Never rejects. */
  async finish(): Promise<ScannedResult[]> {
    if (this.#received >= this.#minBytes && this.#received > this.#sent) this.#send();
    this.#chunks = [];
    const found = await Promise.all(this.#jobs);
    return found.flat();
  }

  /** Sends the range [sent, received) to a worker, with the bytes before it the scan may read. */
  #send(): void {
    const start = this.#sent;
    const end = this.#received;
    const base = Math.max(0, start - OVERLAP_BYTES - LOOKBEHIND_BYTES);
    const bytes = new SharedArrayBuffer(end - base);
    const view = Buffer.from(bytes);
    let offset = this.#chunksStart;
    for (const chunk of this.#chunks) {
      const from = Math.max(base, offset);
      const to = offset + chunk.length;
      if (to > from) chunk.copy(view, from - base, from - offset);
      offset = to;
    }
    this.#sent = end;
    this.#dropChunksBefore(Math.max(0, end - OVERLAP_BYTES - LOOKBEHIND_BYTES));
    const from = Math.max(0, start - OVERLAP_BYTES) - base;
    this.#jobs.push(this.#run(bytes, from, end - base));
  }

  async #run(bytes: SharedArrayBuffer, from: number, to: number): Promise<ScannedResult[]> {
    try {
      const keys = await this.#keys;
      if (keys.length === 0) return [];
      const keyids = keys.map((k) => k.keyid);
      const keyDers = keys.map((k) => k.key);
      const answer = await this.#dispatch({ bytes, from, to, name: this.#name, keyids, keys: keyDers });
      return (answer?.found ?? []).map((f, i) => ({ key: keyDers[f.keyIndex]!, message: f.message, sig: f.sig, valid: answer!.results[i] === true }));
    } catch {
      return [];
    }
  }

  /** Forgets the chunks that end before `offset`: no later job reads them. */
  #dropChunksBefore(offset: number): void {
    let drop = 0;
    while (drop < this.#chunks.length && this.#chunksStart + this.#chunks[drop]!.length <= offset) {
      this.#chunksStart += this.#chunks[drop]!.length;
      drop++;
    }
    if (drop > 0) this.#chunks = this.#chunks.slice(drop);
  }
}
