import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, run } from './npm-env.js';

/** What goes into one test package: its package.json fields and files. */
export interface PackageSpec {
  readonly name: string;
  readonly version: string;
  readonly dependencies?: Record<string, string>;
  readonly files?: Record<string, string>;
}

const CACHE_DIR = join(tmpdir(), 'countersign-test-tarballs');

function specHash(spec: PackageSpec): string {
  return createHash('sha256').update(JSON.stringify([spec.name, spec.version, spec.dependencies ?? {}, spec.files ?? {}])).digest('hex').slice(0, 24);
}

function manifestOf(spec: PackageSpec): Record<string, unknown> {
  return {
    name: spec.name,
    version: spec.version,
    description: `countersign test package ${spec.name}`,
    main: 'index.js',
    license: 'MIT',
    ...(spec.dependencies ? { dependencies: spec.dependencies } : {}),
  };
}

/**
 * Real `npm pack` tarballs for the specs, built by one npm process and cached by content in the
 * OS temp dir, so a test run packs each distinct package once.
 */
export async function packTarballs(specs: readonly PackageSpec[]): Promise<Map<string, Buffer>> {
  mkdirSync(CACHE_DIR, { recursive: true });
  const result = new Map<string, Buffer>();
  const missing = specs.filter((s) => !existsSync(join(CACHE_DIR, `${specHash(s)}.tgz`)));
  if (missing.length > 0) {
    const work = mkdtempSync(join(tmpdir(), 'cs-pack-'));
    const out = join(work, 'out');
    mkdirSync(out);
    const dirs = missing.map((spec, i) => {
      const dir = join(work, `p${i}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'package.json'), JSON.stringify(manifestOf(spec), null, 2));
      const files = spec.files ?? { 'index.js': `module.exports = ${JSON.stringify(`${spec.name}@${spec.version}`)};\n` };
      for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
      return dir;
    });
    const npmrc = join(work, 'npmrc');
    writeFileSync(npmrc, '');
    const packed = await run('npm', ['pack', ...dirs, '--json', '--ignore-scripts', '--pack-destination', out, '--userconfig', npmrc, '--cache', join(work, 'cache')], {
      cwd: work,
      env: cleanEnv(),
    });
    if (packed.code !== 0) throw new Error(`npm pack failed: ${packed.stderr}`);
    const entries = JSON.parse(packed.stdout) as Array<{ filename: string }>;
    entries.forEach((entry, i) => {
      // Rename into the cache atomically so that parallel test files never read half a file.
      const tmp = join(CACHE_DIR, `${specHash(missing[i]!)}.${process.pid}.tmp`);
      writeFileSync(tmp, readFileSync(join(out, entry.filename)));
      renameSync(tmp, join(CACHE_DIR, `${specHash(missing[i]!)}.tgz`));
    });
    rmSync(work, { recursive: true, force: true });
  }
  for (const spec of specs) result.set(`${spec.name}@${spec.version}`, readFileSync(join(CACHE_DIR, `${specHash(spec)}.tgz`)));
  return result;
}
