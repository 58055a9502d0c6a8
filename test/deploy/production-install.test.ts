// The image's production install and start command, run on this machine without Docker.
//
// What the Dockerfile does, and what this test does in a temporary directory that stands for the
// image's root file system (`/app` is <tmp>/root/app, `/data` is <tmp>/root/data, ...):
//   compile stage: `npm pack`, unpacked into /app          → the same `npm pack` and `tar -xzf`
//   build stage:   `npm ci --omit=dev` (flags read from the  → the same command and flags, plus
//                  Dockerfile), compiling better-sqlite3      `--offline --ignore-scripts`
//   runtime:       its ENV, WORKDIR and exec-form CMD        → the same, paths moved under <tmp>/root
//
// The two additions, and why they are honest:
// - `--offline`: a test must not reach the network. npm ci resolves every package from the
//   lockfile's `resolved` URL and `integrity`, and npm's cache is content-addressed by that
//   integrity, so the `npm ci` that installed this project (CI runs it just before `npm test`)
//   has put exactly these tarballs in the cache. If one is missing, the install fails with
//   ENOTCACHED and so does this test, with a message saying so; it never downloads.
// - `--ignore-scripts`, then the compiled better-sqlite3 addon is copied from the project's own
//   node_modules: compiling SQLite again takes minutes on two cores and would prove only what the
//   project's own install already proved (the lockfile's better-sqlite3 builds here). The test
//   checks that both trees hold the same better-sqlite3 version, that no other production
//   dependency has an install script (it fails if one appears, since copying would then not
//   reproduce the image), prunes better-sqlite3's sources as the build stage does, and checks that
//   the addon loads from the production tree.
// Not reproduced here: the image's Node.js major (this runs on the machine's node), the numeric
// user and the read-only root file system (the tests run as root), and Docker's networking.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { envOf, execForm, instructionsOf, parseDockerfile, runCommands, workdirOf, type Stage } from '../helpers/dockerfile.js';
import { FakeRegistry } from '../helpers/fake-registry.js';
import { cleanEnv } from '../helpers/npm-env.js';
import { createRegistryKey } from '../helpers/registry-key.js';

const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));

interface Image {
  readonly runtime: Stage;
  /** The stage that runs the production install. */
  readonly build: Stage;
  /** The flags of the build stage's `npm ci --omit=dev`. */
  readonly npmCiFlags: string[];
  readonly cmd: string[];
}

function readImage(): Image {
  const { stages } = parseDockerfile(readFileSync(join(projectRoot, 'Dockerfile'), 'utf8'));
  const runtime = stages.at(-1)!;
  const productionInstall = (c: string) => /\bnpm ci((?:\s+--[\w-]+(?:=\S+)?)*)/.exec(c);
  const build = stages.find((s) => runCommands(s).some((c) => productionInstall(c)?.[1]?.includes('--omit=dev')));
  assert.ok(build, 'no stage of the Dockerfile runs npm ci --omit=dev');
  const install = runCommands(build).map(productionInstall).find((m) => m?.[1]?.includes('--omit=dev'))!;
  const cmd = execForm(instructionsOf(runtime, 'CMD')[0]!);
  assert.ok(cmd && cmd[0] === 'node', `the image's CMD should start with node: ${JSON.stringify(cmd)}`);
  return { runtime, build, npmCiFlags: install[1]!.trim().split(/\s+/), cmd };
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): { stdout: string; stderr: string } {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal}):\n${result.stderr}\n${result.stdout}`);
  }
  return { stdout: result.stdout, stderr: result.stderr };
}

/** The npm cache the project's own `npm ci` used (npm test may export npm_config_cache). */
function npmCacheDir(): string {
  return run('npm', ['config', 'get', 'cache'], projectRoot, process.env).stdout.trim();
}

interface Lockfile {
  packages: Record<string, { version?: string; dev?: boolean; hasInstallScript?: boolean }>;
}

/** A started `countersign serve` child, with its JSON log lines. */
class Served {
  readonly lines: Array<Record<string, unknown>> = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly child: ChildProcess;

  constructor(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
    this.child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let buffered = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.trim()) this.lines.push(JSON.parse(line) as Record<string, unknown>);
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  async url(): Promise<string> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const listening = this.lines.find((l) => typeof l.url === 'string' && /listening/.test(String(l.msg)));
      if (listening) return listening.url as string;
      if (this.child.exitCode !== null) throw new Error(`countersign exited with ${this.child.exitCode} before listening:\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`countersign did not start within 20 s:\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** SIGTERM, then the exit status, failing if the process is still there after `withinMs`. */
  async terminate(withinMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    const started = Date.now();
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), withinMs);
    const status = await this.exited;
    clearTimeout(timer);
    return { ...status, ms: Date.now() - started };
  }
}

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the image\'s production install and start command', { timeout: 180_000 }, () => {
  const image = readImage();
  let tmp: string;
  let imageRoot: string;
  let upstream: FakeRegistry;
  let slow: Server;
  const slowSeen: string[] = [];
  let slowUrl = '';
  let appDir: string;
  let env: NodeJS.ProcessEnv;
  let config: string;
  const running: Served[] = [];

  /** An absolute path inside the image, as a path under <tmp>/root. */
  const inImage = (path: string): string => join(imageRoot, path);

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'cs-image-'));
    imageRoot = join(tmp, 'root');
    appDir = inImage(workdirOf(image.runtime));
    mkdirSync(appDir, { recursive: true });

    // compile stage: npm pack, unpacked into /app.
    const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', tmp], projectRoot, cleanEnv()).stdout) as Array<{ filename: string }>;
    run('tar', ['-xzf', join(tmp, packed[0]!.filename), '-C', appDir, '--strip-components=1'], tmp, cleanEnv());
    // build stage: npm ci with the Dockerfile's flags, against the lockfile.
    copyFileSync(join(projectRoot, 'package-lock.json'), join(appDir, 'package-lock.json'));
    const npmrc = join(tmp, 'npmrc');
    writeFileSync(npmrc, '');
    const cache = npmCacheDir();
    try {
      run('npm', ['ci', ...image.npmCiFlags, '--offline', '--ignore-scripts', '--cache', cache, '--userconfig', npmrc], appDir, cleanEnv());
    } catch (err) {
      throw new Error(`the offline production install needs every production dependency in the npm cache ${cache}, which the project's own \`npm ci\` fills:\n${(err as Error).message}`);
    }
    rmSync(join(appDir, 'package-lock.json'));

    // The install scripts skipped above: only better-sqlite3's, reproduced by copying its addon.
    const lock = JSON.parse(readFileSync(join(projectRoot, 'package-lock.json'), 'utf8')) as Lockfile;
    const scripted = Object.entries(lock.packages).filter(([path, p]) => path !== '' && p.hasInstallScript && !p.dev).map(([path]) => path);
    assert.deepEqual(scripted, ['node_modules/better-sqlite3'], 'a production dependency with an install script appeared: this test copies only better-sqlite3\'s build output');
    const addon = join('node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
    const version = (dir: string) => (JSON.parse(readFileSync(join(dir, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')) as { version: string }).version;
    assert.equal(version(appDir), version(projectRoot));
    mkdirSync(dirname(join(appDir, addon)), { recursive: true });
    copyFileSync(join(projectRoot, addon), join(appDir, addon));
    // The build stage keeps only the addon of better-sqlite3 (no sources, no objects): so does this tree.
    assert.ok(runCommands(image.build).some((c) => c.includes('rm -rf node_modules/better-sqlite3/build node_modules/better-sqlite3/deps node_modules/better-sqlite3/src')), 'the build stage no longer prunes better-sqlite3 as this test does: update it');
    for (const dir of ['deps', 'src']) rmSync(join(appDir, 'node_modules', 'better-sqlite3', dir), { recursive: true, force: true });

    upstream = await FakeRegistry.start({ key: createRegistryKey() });
    await upstream.publish([
      { name: 'served', version: '1.0.0' },
      { name: 'slow-pkg', version: '1.0.0' },
    ]);
    upstream.fault(/^\/hangs$/, { kind: 'hang-headers' });
    // The upstream for slow-* names: the same registry, answering 0.8 s late.
    slow = createServer((req, res) => {
      slowSeen.push(req.url ?? '');
      const delay = req.url?.startsWith('/slow-') ? 800 : 0;
      setTimeout(() => {
        const forwarded = request(new URL(req.url ?? '/', upstream.url), { method: req.method, headers: { ...req.headers, host: new URL(upstream.url).host } }, (answer) => {
          // Tarball URLs must name this upstream: countersign fetches a tarball only from the
          // upstream that served its packument.
          const chunks: Buffer[] = [];
          answer.on('data', (c: Buffer) => chunks.push(c));
          answer.on('end', () => {
            const body = Buffer.from(Buffer.concat(chunks).toString('latin1').split(upstream.url).join(slowUrl), 'latin1');
            res.writeHead(answer.statusCode ?? 502, { ...answer.headers, 'content-length': body.length });
            res.end(body);
          });
        });
        forwarded.on('error', () => res.destroy());
        req.pipe(forwarded);
      }, delay);
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/`;

    // The runtime stage's environment, its paths moved under <tmp>/root; the config is what the
    // Helm chart mounts at /etc/countersign/config.yaml.
    env = cleanEnv();
    for (const [name, value] of envOf(image.runtime)) env[name] = isAbsolute(value) ? inImage(value) : value;
    assert.ok(env.COUNTERSIGN_CONFIG && env.COUNTERSIGN_DATA_DIR, 'the image sets COUNTERSIGN_CONFIG and COUNTERSIGN_DATA_DIR');
    config = env.COUNTERSIGN_CONFIG;
    mkdirSync(dirname(config), { recursive: true });
    mkdirSync(env.COUNTERSIGN_DATA_DIR, { recursive: true });
    writeFileSync(config, `
server:
  host: 127.0.0.1
  port: 0
  shutdownGrace: 3s
upstreams:
  npmjs:
    url: ${upstream.url}
    keys: upstream
  slow:
    url: http://127.0.0.1:${(slow.address() as AddressInfo).port}/
    keys: upstream
rules:
  - match: ["slow-*"]
    upstream: slow
  - match: ["**"]
    upstream: npmjs
    require: { registrySignature: required, integrity: sha512 }
`);
  });

  after(async () => {
    for (const served of running) if (served.child.exitCode === null) served.child.kill('SIGKILL');
    await upstream?.close();
    await new Promise<void>((resolve) => (slow ? slow.close(() => resolve()) : resolve()));
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  function start(): Served {
    const [, ...args] = image.cmd;
    // `node` in the CMD is the image's node; here, the one running the tests.
    const served = new Served(process.execPath, args, appDir, env);
    running.push(served);
    return served;
  }

  it('installs production dependencies only, with a loadable native addon', () => {
    const installed = new Set(readdirSync(join(appDir, 'node_modules')));
    for (const dep of ['express', 'better-sqlite3', 'prom-client', 'undici', '@sigstore']) assert.ok(installed.has(dep), `${dep} is missing from the production install`);
    const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    for (const dev of ['typescript', 'fast-check', 'pnpm', 'yarn', 'dockerfile-utils']) {
      assert.ok(dev in pkg.devDependencies, `${dev} is no longer a devDependency: update this test`);
      assert.ok(!installed.has(dev), `devDependency ${dev} is in the production install`);
    }
    assert.ok(!existsSync(join(appDir, 'dist', 'test')), 'compiled tests are in the package');
    assert.ok(!existsSync(join(appDir, 'src')), 'TypeScript sources are in the package');
    const probe = spawnSync(process.execPath, ['-e', "const D = require('better-sqlite3'); const db = new D(':memory:'); process.stdout.write(String(db.prepare('select sqlite_version() as v').get().v))"], { cwd: appDir, encoding: 'utf8' });
    assert.equal(probe.status, 0, probe.stderr);
    assert.match(probe.stdout, /^3\.\d+\.\d+$/);
  });

  it('starts with the image\'s command, serves verified packages, and stops on SIGTERM with exit 0', async () => {
    const served = start();
    const url = await served.url();
    const ready = await get(`${url}readyz`, { accept: 'text/plain' });
    assert.equal(ready.status, 200, ready.body);
    assert.deepEqual(JSON.parse(ready.body), { status: 'ready' });
    const packument = await get(`${url}served`, { accept: 'application/json' });
    assert.equal(packument.status, 200, packument.body);
    const doc = JSON.parse(packument.body) as { versions: Record<string, { dist: { tarball: string } }> };
    assert.deepEqual(Object.keys(doc.versions), ['1.0.0']);
    const tarball = await get(doc.versions['1.0.0']!.dist.tarball);
    assert.equal(tarball.status, 200);
    // The verified tarball went to the data dir, /data in the image.
    const cached = readdirSync(join(env.COUNTERSIGN_DATA_DIR!, 'tarballs'), { recursive: true });
    assert.ok(cached.length > 0, 'nothing was written under the data dir');

    const status = await served.terminate(10_000);
    assert.deepEqual({ code: status.code, signal: status.signal }, { code: 0, signal: null }, served.stderr);
    assert.ok(served.lines.some((l) => l.msg === 'stopped'), 'no "stopped" log line');
  });

  it('lets an in-flight request finish after SIGTERM, and refuses new connections', async () => {
    const served = start();
    const url = await served.url();
    const before = slowSeen.length;
    const inFlight = get(`${url}slow-pkg`, { accept: 'application/json' });
    while (!slowSeen.slice(before).some((u) => u.startsWith('/slow-pkg'))) await new Promise((r) => setTimeout(r, 10));

    const stopping = served.terminate(10_000);
    // Shutdown has begun once a new connection is refused.
    const deadline = Date.now() + 1000;
    let refused = false;
    while (!refused && Date.now() < deadline) {
      refused = await get(`${url}-/healthz`).then(() => false, (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
      if (!refused) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(refused, 'countersign still accepted connections 1 s after SIGTERM');

    const answer = await inFlight;
    assert.equal(answer.status, 200, answer.body);
    assert.equal((JSON.parse(answer.body) as { name: string }).name, 'slow-pkg');
    const status = await stopping;
    assert.deepEqual({ code: status.code, signal: status.signal }, { code: 0, signal: null }, served.stderr);
    // Drained, not timed out: the keep-alive connection closed with its last response.
    assert.ok(status.ms < 2500, `exited ${status.ms} ms after SIGTERM; the 3 s grace should not have been needed`);
  });

  it('bounds the drain: a request that never finishes is cut after server.shutdownGrace, and the exit is still 0', async () => {
    const served = start();
    const url = await served.url();
    const stuck = get(`${url}hangs`, { accept: 'application/json' }).then(
      (r) => `answered ${r.status}`,
      (err: NodeJS.ErrnoException) => `cut: ${err.code ?? err.message}`,
    );
    while (!upstream.requests.some((r) => r.url === '/hangs')) await new Promise((r) => setTimeout(r, 10));
    const status = await served.terminate(15_000);
    assert.deepEqual({ code: status.code, signal: status.signal }, { code: 0, signal: null }, served.stderr);
    // shutdownGrace is 3 s in this config: the exit comes right after it, not an upstream timeout later.
    assert.ok(status.ms >= 2900 && status.ms < 6000, `exited ${status.ms} ms after SIGTERM; expected shortly after the 3 s grace`);
    assert.match(await stuck, /^cut|^answered 5\d\d/);
  });
});
