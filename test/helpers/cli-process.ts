/**
 * The production command, `node dist/src/cli/main.js serve`, run with a config of its own, and
 * small HTTP helpers that report what arrived even when the server cuts the connection.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv } from './npm-env.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface Served {
  readonly child: ChildProcess;
  readonly url: URL;
  readonly stdout: () => string;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  readonly dir: string;
}

/** Starts the real CLI with a config of its own; resolves once it logs its address. */
export async function serve(upstreamUrl: string, grace: string): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-shutdown-'));
  const config = join(dir, 'countersign.yaml');
  writeFileSync(config, `
server: { host: 127.0.0.1, port: 0, dataDir: ${JSON.stringify(join(dir, 'data'))}, shutdownGrace: ${grace} }
upstreams:
  npmjs: { url: ${upstreamUrl}, keys: upstream, timeouts: { connect: 10s, headers: 30s, bodyIdle: 30s } }
rules:
  - match: ["**"]
`);
  const child = spawn(process.execPath, [MAIN, 'serve', '--config', config], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })));
  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in 15 s: ${stdout}${stderr}`)), 15_000);
    const look = () => {
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+\/)"/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(new URL(m[1]!));
      }
    };
    child.stdout!.on('data', look);
    void exit.then(() => reject(new Error(`exited before listening: ${stdout}${stderr}`)));
  });
  return { child, url, stdout: () => stdout, exit, dir };
}

/** A GET that reports what arrived, also when the connection is cut. */
export function get(url: URL): Promise<{ status: number | undefined; body: Buffer; complete: boolean; error: string | undefined }> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks), complete: res.complete, error: undefined }));
      res.on('error', (err) => resolve({ status: res.statusCode, body: Buffer.concat(chunks), complete: false, error: err.message }));
    });
    req.on('error', (err) => resolve({ status: undefined, body: Buffer.alloc(0), complete: false, error: err.message }));
    req.end();
  });
}

/** Resolves with the error code of a plain TCP connect ('connected' if it worked). */
export function tryConnect(url: URL): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

export async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
