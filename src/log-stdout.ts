import { writeSync } from 'node:fs';

/** Characters of log lines joined into one write (~240 request lines). */
const BATCH_CHARS = 65_536;
/** The longest a line waits for its batch to fill. */
const BATCH_MS = 250;
/** Log bytes waiting for a slow reader of stdout (a stalled log collector) before batches are dropped. */
const MAX_PENDING_BYTES = 16 * 1024 * 1024;
/** How soon what a full pipe refused is offered again: at once while the reader takes some, less often while it takes none. */
const RETRY_MIN_MS = 1;
const RETRY_MAX_MS = 64;
/** How long an exiting process waits for a slow reader to take what is pending. */
const EXIT_WAIT_MS = 5_000;

/** What the server's log destination adds to a writable: how many lines a stalled stdout cost. */
export interface LogDestination extends NodeJS.WritableStream {
  /** Lines dropped because stdout did not take them fast enough (at most 16 MiB wait), or could not take them at all. */
  readonly droppedLines: number;
}

function newlines(bytes: Buffer, from = 0): number {
  let count = 0;
  for (let at = bytes.indexOf(10, from); at !== -1; at = bytes.indexOf(10, at + 1)) count++;
  return count;
}

/** Never notified: Atomics.wait on it only sleeps (the exit path's wait for a slow reader). */
const nap = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms: number): void => void Atomics.wait(nap, 0, 0, ms);

/**
 * Standard output for a server, where every request writes a line: lines are joined into batches
 * of 64 K characters (or whatever came in 250 ms), and each batch is one write, not a system call,
 * nor a Buffer, per line. Joining strings once per batch is what makes a line cheap to queue
 * (~0.2 µs). What a slow reader (a stalled log collector) has not taken is bounded: past 16 MiB,
 * batches are dropped and counted.
 *
 * Every write is made here, on the main thread, without blocking: Node puts a pipe or socket on
 * stdout in non-blocking mode when `process.stdout` is first read (a file or a terminal does not
 * stall), so a full pipe takes part of a batch or none, and the rest is offered again 1 ms later
 * (up to 64 ms later while the reader takes nothing). Nothing is ever in flight elsewhere, which
 * is what keeps the lines in order when the process exits: an exit handler cannot wait for a write
 * on libuv's thread pool, so what it wrote after one could overtake it. On exit, what is pending is
 * written synchronously, waiting 5 s at most for a reader that has stalled.
 */
export function bufferedStdout(): LogDestination {
  const fd = process.stdout.fd ?? 1;
  let parts: string[] = [];
  let chars = 0;
  /** Batches not (entirely) written yet; the first has `offset` bytes written. */
  const queue: Buffer[] = [];
  let offset = 0;
  let queuedBytes = 0;
  let dropped = 0;
  let retry: NodeJS.Timeout | undefined;
  let retryMs = RETRY_MIN_MS;

  /** Writes what stdout takes now; false when it took less than all of it. */
  const writeSome = (): boolean => {
    while (queue.length > 0) {
      const batch = queue[0]!;
      try {
        const n = writeSync(fd, batch, offset);
        offset += n;
        queuedBytes -= n;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return false;
        // The reader is gone (EPIPE) or stdout is unusable: the rest of this batch is counted, not written.
        dropped += newlines(batch, offset);
        queuedBytes -= batch.length - offset;
        offset = batch.length;
      }
      if (offset === batch.length) {
        queue.shift();
        offset = 0;
      }
    }
    return true;
  };
  const write = (): void => {
    retry = undefined;
    const before = queuedBytes;
    if (writeSome()) {
      retryMs = RETRY_MIN_MS;
      return;
    }
    retryMs = queuedBytes < before ? RETRY_MIN_MS : Math.min(retryMs * 2, RETRY_MAX_MS);
    retry = setTimeout(write, retryMs).unref();
  };
  const handOver = (): void => {
    if (chars === 0) return;
    const batch = Buffer.from(parts.join(''), 'utf8');
    parts = [];
    chars = 0;
    if (queuedBytes + batch.length > MAX_PENDING_BYTES) {
      dropped += newlines(batch);
      return;
    }
    queue.push(batch);
    queuedBytes += batch.length;
    // With a retry pending, stdout was full a moment ago: the timer writes this batch too.
    if (retry === undefined) write();
  };
  const writeAllSync = (): void => {
    handOver();
    const deadline = Date.now() + EXIT_WAIT_MS;
    while (!writeSome() && Date.now() < deadline) sleep(1);
  };
  process.on('beforeExit', handOver);
  process.on('exit', writeAllSync);
  setInterval(handOver, BATCH_MS).unref();

  const stream = {
    write(line: string): boolean {
      parts.push(line);
      chars += line.length;
      if (chars >= BATCH_CHARS) handOver();
      return true;
    },
    /**
     * Calls back once everything written so far is in stdout, or with an error after 5 s of a
     * reader that does not take it all (the lines stay queued). Until then its timer keeps the
     * process alive, so that the callback always runs.
     */
    flush(cb?: (err?: Error) => void): void {
      handOver();
      const deadline = Date.now() + EXIT_WAIT_MS;
      const check = (): void => {
        if (queue.length === 0) cb?.();
        else if (Date.now() >= deadline) cb?.(new Error(`stdout has not taken ${queuedBytes} bytes of log lines after ${EXIT_WAIT_MS / 1000} s; they stay queued (is the log collector reading?)`));
        else setTimeout(check, RETRY_MIN_MS);
      };
      check();
    },
    flushSync: writeAllSync,
    get droppedLines(): number {
      return dropped;
    },
  };
  return stream as unknown as LogDestination;
}
