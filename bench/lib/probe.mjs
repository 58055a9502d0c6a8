// The node flags countersign runs with (the image's, for run.mjs too), and the shared set-up of
// the one-question probes (cold-probe.mjs, mem-probe.mjs): the fake upstream serving the
// recording, and fresh countersign processes configured as in run.mjs.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startNode, waitForHttp } from './processes.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

/** The node flags of the image's CMD (what run.mjs uses by default). */
export async function imageNodeFlags() {
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(await readFile(join(root, 'Dockerfile'), 'utf8'))[1]);
  return cmd.slice(1, cmd.indexOf('dist/src/cli/main.js'));
}

/**
 * Starts the fake upstream; `countersign()` then starts a fresh countersign (empty data dir, or
 * the `dataDir` of an earlier one) from `cli` with `flags`, and `close()` stops everything.
 */
export async function probeSetup({ cli = join(root, 'dist', 'src', 'cli', 'main.js'), flags, extraYaml = '' } = {}) {
  const nodeFlags = flags ?? (await imageNodeFlags());
  const work = await mkdtemp(join(tmpdir(), 'countersign-probe-'));
  const upstream = await startNode('fake-upstream', [join(here, 'fake-upstream.mjs'), join(here, '..', 'recording')], { firstLine: true });
  const config = join(work, 'countersign.yaml');
  await writeFile(
    config,
    `server:\n  host: 127.0.0.1\nlog:\n  level: warn\nupstreams:\n  bench:\n    url: ${upstream.ready.url}\n    keys: upstream\npackuments:\n  maxAge: 30m\n${extraYaml}rules:\n  - match: ["**"]\n    require:\n      integrity: sha512\n      registrySignature: required\n      minReleaseAge: 0\n`,
  );
  const running = [];
  return {
    work,
    nodeFlags,
    /** `cli` and `flags` override the setup's build and node flags for this process (an A/B comparison). */
    async countersign({ dataDir, cli: build = cli, flags: processFlags = nodeFlags } = {}) {
      const port = await freePort();
      const data = dataDir ?? (await mkdtemp(join(work, 'data-')));
      const proc = await startNode('countersign', [...processFlags, build, 'serve', '--config', config], {
        env: { COUNTERSIGN_PORT: String(port), COUNTERSIGN_DATA_DIR: data },
        logFile: '/dev/null',
      });
      running.push(proc);
      await waitForHttp(`http://127.0.0.1:${port}/-/readyz`);
      return { pid: proc.pid, url: `http://127.0.0.1:${port}/`, dataDir: data, stop: () => proc.stop() };
    },
    async close() {
      await Promise.allSettled([...running.map((p) => p.stop()), upstream.stop()]);
      await rm(work, { recursive: true, force: true });
    },
  };
}

/** Flags from an environment variable: unset → undefined (the image's), '' → none. */
export const flagsFromEnv = (value) => (value === undefined ? undefined : value.split(' ').filter(Boolean));
