import { loadConfig } from '../config/load.js';
import { bufferedStdout, createLogger } from '../log.js';
import { adminTokenFrom } from '../server/admin-auth.js';
import { createApp } from '../server/app.js';
import { parseCommandArgs } from './args.js';

export const SERVE_HELP = `countersign serve [--config FILE]

Starts the registry proxy. The config comes from --config, else COUNTERSIGN_CONFIG, else the
shipped config/default.yaml. COUNTERSIGN_HOST, COUNTERSIGN_PORT, COUNTERSIGN_DATA_DIR,
COUNTERSIGN_PUBLIC_URL and COUNTERSIGN_LOG_LEVEL override the file. COUNTERSIGN_ADMIN_TOKEN (at
least 16 characters) turns on the admin API (keys, exemptions, import); without it that API does
not exist.`;

export async function serve(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('serve', argv, { config: { type: 'string', short: 'c' } });
  const config = loadConfig({ file: values.config });
  const adminToken = adminTokenFrom(process.env);
  const stdout = bufferedStdout();
  const logger = createLogger(config.log.level, stdout);
  const app = await createApp(config, { logger, droppedLogLines: () => stdout.droppedLines, ...(adminToken !== undefined ? { adminToken } : {}) });
  // Before taking traffic, as a readiness gate would: a failure only costs the first request time.
  await app.warmUp().then(
    (report) => {
      if (report === undefined) return;
      const { ms, versions, verified } = report;
      if (verified === versions) logger.info({ ms: Math.round(ms), versions }, `verification pipeline warmed up on ${versions} generated versions in ${Math.round(ms)} ms`);
      else logger.error({ versions, verified }, `verification self-check failed: only ${verified} of ${versions} generated signatures verified`);
    },
    (err: unknown) => logger.warn({ err }, 'warm-up failed; serving without it'),
  );
  const url = await app.listen();
  logger.info({ url, config: config.source, dataDir: config.server.dataDir, policy: config.policy.hash, upstreams: [...config.upstreams.keys()] }, `countersign listening on ${url}`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal, graceMs: config.server.shutdownGraceMs }, 'shutting down: draining in-flight requests');
      app.close().then(
        () => {
          logger.info('stopped');
          resolve(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'error while shutting down');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
