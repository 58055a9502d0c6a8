import { parentPort } from 'node:worker_threads';
import { verifyP256 } from './ecdsa-p256.js';
import { scanSignatures, type ScannedSignature } from './signature-scan.js';
import type { P256Task } from './types.js';

/** Signatures to find in part of a packument's raw bytes (see signature-scan.ts), then verify. */
export interface ScanJob {
  /** The body, read in place up to `to` (it may be longer, and still growing). */
  readonly bytes: SharedArrayBuffer;
  /** Signatures arrays starting in [from, to) are read; the bytes before `from` only for their fields. */
  readonly from: number;
  readonly to: number;
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
  const found = scanSignatures(Buffer.from(job.bytes, 0, job.to), job.name, job.keyids, job.from, job.to);
  return { found, results: found.map((f) => verifyP256(job.keys[f.keyIndex]!, f.message, f.sig)) };
}

port.on('message', (request: WorkerRequest) => {
  const answer = 'scan' in request ? scan(request.scan) : { results: request.tasks.map((task) => verifyP256(task.key, task.message, task.sig)) };
  const response: WorkerResponse = { id: request.id, ...answer };
  port.postMessage(response);
});
