import { isValidVersion, parsePackageName } from '../registry/name.js';
import { sha512HexOf } from '../verify/integrity.js';
import { isJsonObject } from './strict-json.js';

export interface BaselineEntry {
  readonly name: string;
  readonly version: string;
  readonly sha512: string;
}

export interface BaselineRead {
  readonly entries: readonly BaselineEntry[];
  readonly skipped: ReadonlyArray<{ readonly what: string; readonly why: string }>;
}

function nameFromPath(path: string): string {
  const at = path.lastIndexOf('node_modules/');
  return at === -1 ? path : path.slice(at + 'node_modules/'.length);
}

/**
 * The exact name@version+sha512 a package-lock.json installs from a registry (lockfile v1, v2 and
 * v3): what a baseline exempts. Links, workspaces, git and file dependencies, and entries without
 * a sha512 integrity are skipped with a reason. Pure.
 */
export function baselineFromLockfile(lock: unknown): BaselineRead {
  const entries = new Map<string, BaselineEntry>();
  const skipped: Array<{ what: string; why: string }> = [];

  function add(what: string, name: string, meta: Record<string, unknown>): void {
    if (meta.link === true) return;
    const { version, integrity, resolved } = meta;
    if (typeof version !== 'string' || !isValidVersion(version)) return void skipped.push({ what, why: 'no exact registry version (git, file or alias?)' });
    if (typeof resolved === 'string' && !/^https?:\/\//.test(resolved)) return void skipped.push({ what, why: `not from a registry (${resolved.slice(0, 60)})` });
    if (!parsePackageName(name)) return void skipped.push({ what, why: 'not a valid package name' });
    const sha512 = sha512HexOf(typeof integrity === 'string' ? integrity : undefined);
    if (sha512 === undefined) return void skipped.push({ what, why: 'no sha512 integrity in the lockfile' });
    entries.set(`${name}@${version}\0${sha512}`, { name, version, sha512 });
  }

  if (!isJsonObject(lock)) return { entries: [], skipped: [{ what: 'lockfile', why: 'not a JSON object' }] };
  if (isJsonObject(lock.packages)) {
    for (const [path, meta] of Object.entries(lock.packages)) {
      if (path === '' || !isJsonObject(meta) || !path.includes('node_modules/')) continue;
      add(path, typeof meta.name === 'string' ? meta.name : nameFromPath(path), meta);
    }
  } else if (isJsonObject(lock.dependencies)) {
    const walk = (deps: Record<string, unknown>, trail: string): void => {
      for (const [name, meta] of Object.entries(deps)) {
        if (!isJsonObject(meta)) continue;
        if (typeof meta.version === 'string' && meta.version.startsWith('npm:')) {
          const real = meta.version.slice(4);
          const at = real.lastIndexOf('@');
          add(`${trail}${name}`, real.slice(0, at), { ...meta, version: real.slice(at + 1) });
        } else {
          add(`${trail}${name}`, name, meta);
        }
        if (isJsonObject(meta.dependencies)) walk(meta.dependencies, `${trail}${name} > `);
      }
    };
    walk(lock.dependencies, '');
  } else {
    return { entries: [], skipped: [{ what: 'lockfile', why: 'has neither "packages" nor "dependencies": is it a package-lock.json?' }] };
  }
  return { entries: [...entries.values()], skipped };
}
