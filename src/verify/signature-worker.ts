import { parentPort } from 'node:worker_threads';
import { verifyP256 } from './ecdsa-p256.js';
import type { P256Task } from './types.js';

/** A batch of verifications sent to a worker of `SignaturePool`. */
export interface WorkerRequest {
  readonly id: number;
  readonly tasks: readonly P256Task[];
}

/** The answer: `results[i]` for `tasks[i]`. */
export interface WorkerResponse {
  readonly id: number;
  readonly results: readonly boolean[];
}

const port = parentPort;
if (port === null) throw new Error('signature-worker.js only runs as a worker thread of SignaturePool');

port.on('message', (request: WorkerRequest) => {
  const results = request.tasks.map((task) => verifyP256(task.key, task.message, task.sig));
  const response: WorkerResponse = { id: request.id, results };
  port.postMessage(response);
});
