import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { createLogger } from '../../src/log.js';
import { createApp, type App, type AppOptions } from '../../src/server/app.js';

export interface Running {
  readonly url: string;
  readonly app: App;
  readonly config: Config;
  readonly dataDir: string;
  /** Every log line written so far, parsed. */
  readonly logs: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export interface StartOptions {
  /** The config document; `${DATA_DIR}` is replaced by a fresh temp dir. */
  readonly yaml: string;
  readonly now?: () => number;
  readonly env?: Record<string, string>;
  readonly dataDir?: string;
  readonly appOptions?: Partial<AppOptions>;
}

/** Starts countersign in this process on 127.0.0.1:0 with a config written for the test. */
export async function startCountersign(options: StartOptions): Promise<Running> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'cs-data-'));
  const config = parseConfig(options.yaml, 'test.yaml', { env: { DATA_DIR: dataDir, ...options.env }, cwd: dataDir });
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = createLogger('info', sink);
  const app = await createApp(config, { logger, ...(options.now ? { now: options.now } : {}), ...options.appOptions });
  const url = await app.listen(0, '127.0.0.1');
  return {
    url,
    app,
    config,
    dataDir,
    logs,
    async close() {
      await app.close();
      if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A config with one public upstream (keys from its /-/npm/v1/keys) and a catch-all verify rule. */
export function verifyConfig(upstreamUrl: string, require = 'registrySignature: required', extra = ''): string {
  return `
server:
  dataDir: \${DATA_DIR}
  shutdownGrace: 1s
upstreams:
  npmjs:
    url: ${upstreamUrl}
    keys: upstream
    timeouts: { connect: 2s, headers: 5s, bodyIdle: 5s }
${extra}
rules:
  - match: ["**"]
    require:
      ${require.split('\n').join('\n      ')}
`;
}
