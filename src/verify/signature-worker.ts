import { parentPort } from 'node:worker_threads';
import { verifyP256 } from './ecdsa-p256.js';
import { scanSignatures, type ScannedSignature } from './signature-scan.js';
import type { P256Task } from './types.js';

/** Signatures to find in a packument's raw bytes (see signature-scan.ts), then verify. */
export interface ScanJob {
  /** The whole packument body; the worker reads it in place. */
  readonly bytes: SharedArrayBuffer;
  readonly length: number;
  /**
   * The body is read in ranges of this many bytes; `next` (one Int32, shared by the workers of the
   * scan) is the index of the next range nobody has claimed, so a worker that is ahead takes more.
   */
  readonly rangeBytes: number;
  readonly next: SharedArrayBuffer;
  readonly name: string;
  /** The registry keys: ids and base64 DER SPKI, index for index. */
  readonly keyids: readonly string[];
  readonly keys: readonly string[];
}

/** A batch of verifications, or a scan, sent to a worker of `SignaturePool`. */
export type WorkerRequest = { readonly id: number; readonly tasks: readonly P256Task[] } | { readonly id: number; readonly scan: ScanJob };

/** The answer: `results[i]` for `tasks[i]`, or for `found[i]` after a scan. */
export interface WorkerResponse {
  readonly id: number;
  readonly results: readonly boolean[];
  readonly found?: readonly ScannedSignature[];
}

const port = parentPort;
if (port === null) throw new Error('signature-worker.js only runs as a worker thread of SignaturePool');

function scan(job: ScanJob): Omit<WorkerResponse, 'id'> {
  const bytes = Buffer.from(job.bytes, 0, job.length);
  const next = new Int32Array(job.next);
  const found: ScannedSignature[] = [];
  const results: boolean[] = [];
  for (let from = Atomics.add(next, 0, 1) * job.rangeBytes; from < job.length; from = Atomics.add(next, 0, 1) * job.rangeBytes) {
    for (const f of scanSignatures(bytes, job.name, job.keyids, from, Math.min(job.length, from + job.rangeBytes))) {
      found.push(f);
      results.push(verifyP256(job.keys[f.keyIndex]!, f.message, f.sig));
    }
  }
  return { found, results };
}

port.on('message', (request: WorkerRequest) => {
  const answer = 'scan' in request ? scan(request.scan) : { results: request.tasks.map((task) => verifyP256(task.key, task.message, task.sig)) };
  const response: WorkerResponse = { id: request.id, ...answer };
  port.postMessage(response);
});
