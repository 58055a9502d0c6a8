import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Environments and runners for real package-manager processes. The parent may be `npm test`, which
 * exports dozens of npm_config_* variables; none of them, nor any proxy setting, may reach the
 * child, and every child gets its own cache and config files.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    const lower = key.toLowerCase();
    if (lower.startsWith('npm_') || lower.startsWith('pnpm_') || lower.startsWith('yarn_')) continue;
    if (lower.endsWith('_proxy') || lower === 'proxy') continue;
    if (lower.startsWith('countersign_')) continue;
    env[key] = value;
  }
  return { ...env, NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost', NO_UPDATE_NOTIFIER: '1', ...extra };
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A project directory with its own npm cache and empty user/global npmrc files. */
export interface Sandbox {
  readonly dir: string;
  readonly cache: string;
  readonly npmrc: string;
}

export function makeSandbox(prefix = 'cs-e2e-'): Sandbox {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const dir = join(root, 'project');
  const cache = join(root, 'cache');
  mkdirSync(dir);
  mkdirSync(cache);
  const npmrc = join(root, 'npmrc');
  writeFileSync(npmrc, '');
  // npm 11 refuses the same file as user and global config ("double-loading config").
  writeFileSync(`${npmrc}-global`, '');
  return { dir, cache, npmrc };
}

/** `npm <args>` with the sandbox's cache and config, against `registry`. */
export function npm(box: Sandbox, registry: string, args: string[], extraEnv: Record<string, string> = {}): Promise<RunResult> {
  return run('npm', [
    ...args,
    '--registry', registry,
    '--cache', box.cache,
    '--userconfig', box.npmrc,
    '--globalconfig', `${box.npmrc}-global`,
    '--no-audit', '--no-fund', '--no-update-notifier', '--loglevel', 'error',
    '--fetch-retries', '0',
  ], { cwd: box.dir, env: cleanEnv({ HOME: dirname(box.cache), ...extraEnv }) });
}

const requireHere = createRequire(import.meta.url);

/** The pnpm and yarn (classic) CLIs installed as devDependencies. */
export function toolBin(tool: 'pnpm' | 'yarn'): string {
  const pkg = requireHere.resolve(`${tool}/package.json`);
  return tool === 'pnpm' ? join(dirname(pkg), 'bin', 'pnpm.cjs') : join(dirname(pkg), 'bin', 'yarn.js');
}
