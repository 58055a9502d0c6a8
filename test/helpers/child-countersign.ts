import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, ParentMessage } from './child-main.js';

export interface MemorySample {
  readonly rss: number;
  readonly heapUsed: number;
  /** V8's committed heap; with rss - heapTotal - external, it tells where resident memory went. */
  readonly heapTotal: number;
  readonly external: number;
  /** Peak resident set since the child started, in bytes. */
  readonly maxRss: number;
}

/** countersign in its own process: its memory is its own, and a crash does not take the test down. */
export interface ChildCountersign {
  readonly url: string;
  readonly child: ChildProcess;
  readonly dataDir: string;
  /** Unhandled rejections and uncaught exceptions the child reported. */
  readonly faults: string[];
  /** Resolves with the exit code (or signal name) when the child exits. */
  readonly exited: Promise<number | string>;
  /** The child's memory; `gc` collects garbage first (the child runs with --expose-gc). */
  memory(gc?: boolean): Promise<MemorySample>;
  close(): Promise<void>;
}

const ENTRY = fileURLToPath(new URL('./child-main.js', import.meta.url));

/** Forks countersign with `yaml` (`${DATA_DIR}` is a fresh temp dir); resolves once it listens. */
export async function spawnCountersign(yaml: string, options: { env?: Record<string, string> } = {}): Promise<ChildCountersign> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cs-child-'));
  const child = fork(ENTRY, [], {
    env: { ...process.env, ...options.env, CS_CHILD_CONFIG: yaml, DATA_DIR: dataDir },
    execArgv: ['--expose-gc', '--enable-source-maps'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const faults: string[] = [];
  const waiting: Array<(m: ChildMessage) => boolean> = [];
  child.on('message', (message: ChildMessage) => {
    if (message.type === 'fault') faults.push(`${message.kind}: ${message.message}`);
    const i = waiting.findIndex((w) => w(message));
    if (i !== -1) waiting.splice(i, 1);
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const next = <T extends ChildMessage['type']>(type: T, timeoutMs = 15_000): Promise<Extract<ChildMessage, { type: T }>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child sent no ${type} message in ${timeoutMs} ms`)), timeoutMs).unref();
      void exited.then((code) => reject(new Error(`child exited (${code}) before sending ${type}: ${faults.join('; ') || 'no fault reported'}`)));
      waiting.push((m) => {
        if (m.type !== type) return false;
        clearTimeout(timer);
        resolve(m as Extract<ChildMessage, { type: T }>);
        return true;
      });
    });
  const post = (message: ParentMessage) => child.send(message);
  const { url } = await next('listening');
  return {
    url,
    child,
    dataDir,
    faults,
    exited,
    async memory(gc = false) {
      const reply = next('memory');
      post({ type: 'memory', gc });
      const { rss, heapUsed, heapTotal, external, maxRss } = await reply;
      return { rss, heapUsed, heapTotal, external, maxRss };
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        const closed = next('closed').catch(() => undefined);
        post({ type: 'close' });
        await Promise.race([closed, new Promise((r) => setTimeout(r, 5_000).unref())]);
        if (child.exitCode === null) child.kill('SIGKILL');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
