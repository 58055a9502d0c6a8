import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { CLI_MAIN } from './cli.js';
import { cleanEnv } from './npm-env.js';

/** `countersign serve` as a separate process (what SIGKILL tests need). */
export interface ServeProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Resolves with the URL once it listens; rejects if it exits first. */
  readonly url: Promise<string>;
  /** Resolves with the exit code (or signal) once it has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

export function startServeProcess(configFile: string, env: Record<string, string> = {}): ServeProcess {
  const child = spawn(process.execPath, [CLI_MAIN, 'serve', '--config', configFile], { env: cleanEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    void exited.then(({ code, signal }) => reject(new Error(`countersign serve exited (${code ?? signal}) before listening:\n${out}`)));
  });
  url.catch(() => undefined);
  return { child, url, exited, output: () => out };
}
