// `npm install` of the recorded app in a fresh directory, isolated from the machine's npm setup.
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isolatedNpmArgs, isolatedNpmEnv } from './recording.mjs';

/**
 * Installs `packageJson` (no lockfile: every packument is resolved) from `registry`. `cache` is
 * npm's cache directory; `seedCache`, when given, is copied there first. Returns seconds.
 */
export async function npmInstall({ workRoot, packageJson, registry, seedCache, extraArgs = [] }) {
  const dir = await mkdtemp(join(workRoot, 'install-'));
  try {
    const app = join(dir, 'app');
    const cache = join(dir, 'cache');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), packageJson);
    await writeFile(join(dir, 'userconfig'), '');
    await writeFile(join(dir, 'globalconfig'), '');
    if (seedCache) await cp(seedCache, cache, { recursive: true });
    const args = ['install', ...isolatedNpmArgs({ userconfig: join(dir, 'userconfig'), globalconfig: join(dir, 'globalconfig'), cache, registry }), ...extraArgs];
    const started = performance.now();
    const { code, stderr } = await new Promise((resolve) => {
      const child = spawn('npm', args, { cwd: app, env: isolatedNpmEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (c) => (err = (err + c).slice(-4000)));
      child.once('exit', (c) => resolve({ code: c, stderr: err }));
    });
    const seconds = (performance.now() - started) / 1000;
    if (code !== 0) throw new Error(`npm install from ${registry} failed (exit ${code}):\n${stderr}`);
    const installed = (await readdir(join(app, 'node_modules'))).length;
    return { seconds, installed, cache };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Installs once from `registry` and keeps npm's cache in `cacheDir` (for the npm-cache-only runs). */
export async function primeNpmCache({ workRoot, packageJson, registry, cacheDir }) {
  const dir = await mkdtemp(join(workRoot, 'prime-'));
  try {
    await writeFile(join(dir, 'package.json'), packageJson);
    await writeFile(join(dir, 'userconfig'), '');
    await writeFile(join(dir, 'globalconfig'), '');
    const args = ['install', ...isolatedNpmArgs({ userconfig: join(dir, 'userconfig'), globalconfig: join(dir, 'globalconfig'), cache: cacheDir, registry })];
    const code = await new Promise((resolve) => spawn('npm', args, { cwd: dir, env: isolatedNpmEnv(), stdio: 'ignore' }).once('exit', resolve));
    if (code !== 0) throw new Error(`priming npm's cache from ${registry} failed (exit ${code})`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
