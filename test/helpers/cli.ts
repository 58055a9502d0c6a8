import { fileURLToPath } from 'node:url';
import { cleanEnv, run, type RunResult } from './npm-env.js';

/** The compiled CLI, as `countersign` runs it. */
export const CLI_MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** `countersign <args>` as a child process with a clean environment plus `env`. */
export function countersign(args: string[], options: { cwd: string; env?: Record<string, string>; timeoutMs?: number }): Promise<RunResult> {
  return run(process.execPath, [CLI_MAIN, ...args], { cwd: options.cwd, env: cleanEnv(options.env), timeoutMs: options.timeoutMs ?? 30_000 });
}
