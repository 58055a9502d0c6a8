/**
 * Entry point of a countersign child process for tests that watch it from outside (memory,
 * crashes, unhandled rejections). Not a test file: spawned by child-countersign.ts, which passes
 * the config in CS_CHILD_CONFIG and DATA_DIR and talks to it over IPC.
 */
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { createApp } from '../../src/server/app.js';

export type ParentMessage = { readonly type: 'memory'; readonly gc: boolean } | { readonly type: 'close' };

export type ChildMessage =
  | { readonly type: 'listening'; readonly url: string }
  | { readonly type: 'memory'; readonly rss: number; readonly heapUsed: number; readonly heapTotal: number; readonly external: number; readonly maxRss: number }
  | { readonly type: 'fault'; readonly kind: 'unhandledRejection' | 'uncaughtException'; readonly message: string }
  | { readonly type: 'closed' };

function send(message: ChildMessage): void {
  process.send?.(message);
}

function describe(reason: unknown): string {
  return reason instanceof Error ? (reason.stack ?? reason.message) : String(reason);
}

// Reported, not swallowed: the parent fails the test on any of these.
process.on('unhandledRejection', (reason) => send({ type: 'fault', kind: 'unhandledRejection', message: describe(reason) }));
process.on('uncaughtException', (err) => {
  send({ type: 'fault', kind: 'uncaughtException', message: describe(err) });
  process.exitCode = 70;
  setImmediate(() => process.exit(70));
});

const yaml = process.env.CS_CHILD_CONFIG;
const dataDir = process.env.DATA_DIR;
if (yaml === undefined || dataDir === undefined) throw new Error('CS_CHILD_CONFIG and DATA_DIR must be set');
const config = parseConfig(yaml, 'child.yaml', { env: { ...process.env }, cwd: dataDir });
const logger = createLogger(config.log.level, process.stdout);
const app = await createApp(config, { logger });
const url = await app.listen(0, '127.0.0.1');

process.on('message', (message: ParentMessage) => {
  if (message.type === 'memory') {
    const collect = (globalThis as { gc?: () => void }).gc;
    if (message.gc && collect) collect();
    const usage = process.memoryUsage();
    // maxRSS is the peak resident set in KiB, so growth can never hide between two samples.
    send({ type: 'memory', rss: usage.rss, heapUsed: usage.heapUsed, heapTotal: usage.heapTotal, external: usage.external, maxRss: process.resourceUsage().maxRSS * 1024 });
  } else if (message.type === 'close') {
    void app.close().then(() => {
      send({ type: 'closed' });
      process.disconnect();
    });
  }
});
send({ type: 'listening', url });
