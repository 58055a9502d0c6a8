import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { verifyP256 } from './ecdsa-p256.js';
import type { ScannedSignature } from './signature-scan.js';
import type { ScanJob, WorkerRequest, WorkerResponse } from './signature-worker.js';
import { StreamingScan, type ScanKey } from './streaming-scan.js';
import type { P256Task } from './types.js';

/**
 * Below this many tasks a batch runs on the calling thread: 64 verifications take ~3 ms, and a round
 * trip to the workers saves little under that (the measured break-even is 16 to 32 tasks).
 */
export const DEFAULT_INLINE_BELOW = 64;
/** After this many worker crashes in a row the pool stops starting workers and verifies inline. */
const MAX_CONSECUTIVE_CRASHES = 3;
/** The young generation of a signature worker: V8 sizes it as for the main thread unless told. */
const WORKER_YOUNG_GENERATION_MB = 4;

/**
 * Default worker count: one per core but one, and at least 2 so that a 2-core machine verifies on
 * both cores while the event loop stays free. Measured on 2 cores with 3,500 signatures
 * (bench/micro/signature-pool.mjs): inline 170 ms; 2 workers 95 ms with the caller blocked 2–5 ms;
 * 1 worker plus a share on the caller 91 ms, but the caller blocked 88 ms.
 */
export function defaultPoolSize(): number {
  return Math.max(2, availableParallelism() - 1);
}

export interface SignaturePoolOptions {
  /** Worker threads, started on first use (or by `start()`). Default: `defaultPoolSize()`. */
  readonly size?: number;
  /** Batches with fewer tasks run inline (default 64). */
  readonly inlineBelow?: number;
  /**
   * Whether the calling thread verifies one chunk of a large batch itself while the workers do the
   * rest (default false). As fast as one more worker, but it blocks the caller's event loop for
   * that chunk: for CLI batch jobs, not for the server.
   */
  readonly callerShare?: boolean;
  /** The worker script; tests point it elsewhere. Default: the compiled `signature-worker.js` next to this file. */
  readonly workerUrl?: URL;
  /** Called when a worker fails; its tasks are then verified inline. */
  readonly onWorkerError?: (err: Error) => void;
}

export function verifyInline(tasks: readonly P256Task[]): boolean[] {
  return tasks.map((task) => verifyP256(task.key, task.message, task.sig));
}

function isBooleans(value: unknown, expected: number | undefined): value is boolean[] {
  return Array.isArray(value) && (expected === undefined || value.length === expected) && value.every((r) => typeof r === 'boolean');
}

function isFound(value: unknown, length: number, keyCount: number): value is ScannedSignature[] {
  if (!Array.isArray(value) || value.length !== length) return false;
  return value.every((f: Partial<ScannedSignature> | null) => {
    if (typeof f !== 'object' || f === null) return false;
    const { keyIndex, message, sig } = f;
    return Number.isInteger(keyIndex) && keyIndex! >= 0 && keyIndex! < keyCount && typeof message === 'string' && typeof sig === 'string';
  });
}

/** Checks a worker's answer to the request it was sent: the worker is trusted code, but a bug there must not become a verdict. */
function isResponse(value: unknown, request: WorkerRequest): value is WorkerResponse {
  if (typeof value !== 'object' || value === null) return false;
  const { results, found } = value as Partial<WorkerResponse>;
  if ('tasks' in request) return isBooleans(results, request.tasks.length) && found === undefined;
  return isBooleans(results, undefined) && isFound(found, results.length, request.scan.keys.length);
}

interface Pending {
  readonly request: WorkerRequest;
  readonly resolve: (response: WorkerResponse) => void;
  readonly reject: (err: Error) => void;
}

interface WorkerEvents {
  /** A well-formed answer arrived. */
  readonly onAnswer: () => void;
  /** The worker died without being asked to; called once. */
  readonly onDeath: (err: Error) => void;
}

/** One worker thread: referenced only while it has work, so an idle pool never keeps the process alive. */
class PoolWorker {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  readonly #events: WorkerEvents;
  #nextId = 0;
  #alive = true;

  constructor(url: URL, events: WorkerEvents) {
    this.#events = events;
    // A worker allocates little (one scan job's finds at a time), but V8 would let its young
    // generation grow as the main thread's does: capped, two workers hold ~12 MB less.
    this.#worker = new Worker(url, { resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
    this.#worker.unref();
    this.#worker.on('message', (message: unknown) => this.#receive(message));
    this.#worker.on('error', (err) => this.#fail(err));
    this.#worker.on('messageerror', (err) => this.#fail(err));
    this.#worker.on('exit', (code) => this.#fail(new Error(`signature worker exited with code ${code}`)));
  }

  get alive(): boolean {
    return this.#alive;
  }

  /** Requests sent and not answered yet. */
  get load(): number {
    return this.#pending.size;
  }

  run(tasks: readonly P256Task[]): Promise<boolean[]> {
    // Only the three strings cross the thread boundary, whatever else the caller's objects hold.
    return this.#send({ id: this.#nextId++, tasks: tasks.map(({ key, message, sig }) => ({ key, message, sig })) }).then((r) => [...r.results]);
  }

  scan(job: ScanJob): Promise<WorkerResponse> {
    return this.#send({ id: this.#nextId++, scan: job });
  }

  #send(request: WorkerRequest): Promise<WorkerResponse> {
    if (!this.#alive) return Promise.reject(new Error('signature worker is not running'));
    return new Promise((resolve, reject) => {
      this.#pending.set(request.id, { request, resolve, reject });
      if (this.#pending.size === 1) this.#worker.ref();
      this.#worker.postMessage(request);
    });
  }

  terminate(): Promise<void> {
    this.#alive = false;
    return this.#worker.terminate().then(() => undefined);
  }

  #receive(message: unknown): void {
    const id = typeof message === 'object' && message !== null ? (message as { id?: unknown }).id : undefined;
    const pending = typeof id === 'number' ? this.#pending.get(id) : undefined;
    if (pending === undefined || !isResponse(message, pending.request)) {
      this.#fail(new Error('signature worker sent a malformed answer'));
      void this.#worker.terminate();
      return;
    }
    this.#pending.delete(pending.request.id);
    if (this.#pending.size === 0) this.#worker.unref();
    this.#events.onAnswer();
    pending.resolve(message);
  }

  #fail(err: Error): void {
    if (this.#alive) this.#events.onDeath(err);
    this.#alive = false;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    this.#worker.unref();
    for (const p of pending) p.reject(err);
  }
}

/** Splits `tasks` into `count` contiguous chunks of nearly equal size. */
function split<T>(tasks: readonly T[], count: number): T[][] {
  const size = Math.ceil(tasks.length / count);
  const chunks: T[][] = [];
  for (let start = 0; start < tasks.length; start += size) chunks.push(tasks.slice(start, start + size));
  return chunks;
}

/**
 * Verifies batches of ECDSA P-256 signatures across worker threads. Small batches run inline.
 * Results never depend on the path taken: a worker that crashes, exits or answers nonsense has its
 * chunk verified inline, and `verifyMany` after `close()` works inline too.
 */
export class SignaturePool {
  readonly #size: number;
  readonly #inlineBelow: number;
  readonly #callerShare: boolean;
  readonly #workerUrl: URL;
  readonly #onWorkerError: ((err: Error) => void) | undefined;
  #workers: PoolWorker[] = [];
  #crashes = 0;
  #closed = false;
  readonly #workerEvents: WorkerEvents = {
    onAnswer: () => {
      this.#crashes = 0;
    },
    onDeath: (err) => {
      this.#crashes++;
      this.#onWorkerError?.(err);
    },
  };

  constructor(options: SignaturePoolOptions = {}) {
    const size = options.size ?? defaultPoolSize();
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`size must be an integer >= 1, got ${size}`);
    this.#size = size;
    this.#inlineBelow = options.inlineBelow ?? DEFAULT_INLINE_BELOW;
    this.#callerShare = options.callerShare ?? false;
    this.#workerUrl = options.workerUrl ?? new URL('./signature-worker.js', import.meta.url);
    this.#onWorkerError = options.onWorkerError;
  }

  async verifyMany(tasks: readonly P256Task[]): Promise<boolean[]> {
    const workers = tasks.length < this.#inlineBelow ? [] : this.#runningWorkers();
    if (workers.length === 0) return verifyInline(tasks);
    const chunks = split(tasks, workers.length + (this.#callerShare ? 1 : 0));
    const callerChunk = this.#callerShare ? chunks.pop() : undefined;
    const fromWorkers = chunks.map((chunk, i) => workers[i]!.run(chunk).catch(() => verifyInline(chunk)));
    // The workers got their chunks first, so they run while this thread verifies its own.
    const own = callerChunk === undefined ? [] : verifyInline(callerChunk);
    const results = await Promise.all(fromWorkers);
    return [...results.flat(), ...own];
  }

  /**
   * A scan of a packument body as it arrives (see StreamingScan), on the workers only: this
   * thread stays free to receive and parse. Undefined when no worker runs (closed, or broken).
   */
  streamScan(name: string, keys: Promise<readonly ScanKey[]>, minBytes: number, maxBytes: number): StreamingScan | undefined {
    // Workers start with the first job, not here: most bodies are too small to be scanned.
    if (this.#closed || this.#crashes >= MAX_CONSECUTIVE_CRASHES) return undefined;
    try {
      return new StreamingScan(name, keys, (job) => this.#scanOnWorker(job), minBytes, maxBytes);
    } catch {
      // No room to reserve for the body (config validation keeps packuments.maxSize well under the
      // engine's limit): the body is read as usual and its signatures verified after the parse.
      return undefined;
    }
  }

  /** One scan job on the least busy worker; undefined when none runs or it fails. */
  async #scanOnWorker(job: ScanJob): Promise<WorkerResponse | undefined> {
    const workers = this.#runningWorkers();
    if (workers.length === 0) return undefined;
    const worker = workers.reduce((a, b) => (b.load < a.load ? b : a));
    return worker.scan(job).catch(() => undefined);
  }

  /** Starts the workers now instead of on the first large batch, so that batch does not pay their start-up (~40 ms). */
  start(): void {
    this.#runningWorkers();
  }

  /** Worker threads currently running (for metrics and tests). */
  get threads(): number {
    return this.#workers.filter((worker) => worker.alive).length;
  }

  /** Stops the workers. In-flight chunks finish inline. */
  async close(): Promise<void> {
    this.#closed = true;
    const workers = this.#workers;
    this.#workers = [];
    await Promise.all(workers.map((worker) => worker.terminate()));
  }

  /** The workers to use now, started lazily and replaced when they died; none once closed or broken. */
  #runningWorkers(): PoolWorker[] {
    if (this.#closed || this.#crashes >= MAX_CONSECUTIVE_CRASHES) return [];
    this.#workers = this.#workers.filter((worker) => worker.alive);
    while (this.#workers.length < this.#size) {
      this.#workers.push(new PoolWorker(this.#workerUrl, this.#workerEvents));
    }
    return this.#workers;
  }
}
