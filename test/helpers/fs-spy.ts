/**
 * Watches (or breaks) the file system calls countersign makes, in this process. countersign
 * imports `node:fs` and `node:fs/promises` by name; `syncBuiltinESMExports` makes those live
 * bindings follow the patched module objects, so the product code runs unchanged.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

type AnyFunction = (...args: unknown[]) => unknown;

/** Calls that create, change or remove files, and which of their arguments are paths. */
const MUTATING: ReadonlyArray<[object, string, number[]]> = [
  [fs, 'createWriteStream', [0]],
  [fs, 'writeFile', [0]],
  [fs, 'writeFileSync', [0]],
  [fs, 'appendFile', [0]],
  [fs, 'appendFileSync', [0]],
  [fs, 'mkdir', [0]],
  [fs, 'mkdirSync', [0]],
  [fs, 'rename', [0, 1]],
  [fs, 'renameSync', [0, 1]],
  [fs, 'rm', [0]],
  [fs, 'rmSync', [0]],
  [fs, 'unlink', [0]],
  [fs, 'unlinkSync', [0]],
  [fs, 'utimes', [0]],
  [fs, 'utimesSync', [0]],
  [fs, 'symlink', [1]],
  [fs, 'symlinkSync', [1]],
  [fs, 'copyFile', [1]],
  [fs, 'copyFileSync', [1]],
  [fsp, 'writeFile', [0]],
  [fsp, 'appendFile', [0]],
  [fsp, 'mkdir', [0]],
  [fsp, 'rename', [0, 1]],
  [fsp, 'rm', [0]],
  [fsp, 'unlink', [0]],
  [fsp, 'utimes', [0]],
  [fsp, 'symlink', [1]],
  [fsp, 'copyFile', [1]],
];

function pathOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return resolve(arg);
  if (Buffer.isBuffer(arg)) return resolve(arg.toString('utf8'));
  if (arg instanceof URL) return fileURLToPath(arg);
  return undefined;
}

function isWriteFlag(flags: unknown): boolean {
  return typeof flags === 'string' ? /[wa+]/.test(flags) : typeof flags === 'number' && (flags & (fs.constants.O_WRONLY | fs.constants.O_RDWR)) !== 0;
}

export interface FsSpy {
  /** Absolute paths passed to mutating calls (and opens for writing), in call order. */
  readonly written: string[];
  restore(): void;
}

/** Records every path countersign writes, renames, removes or opens for writing. */
export function spyOnFsWrites(): FsSpy {
  const written: string[] = [];
  const restores: Array<() => void> = [];
  const patch = (target: object, name: string, wrap: (original: AnyFunction) => AnyFunction) => {
    const record = target as Record<string, AnyFunction>;
    const original = record[name]!;
    record[name] = wrap(original);
    restores.push(() => (record[name] = original));
  };
  for (const [target, name, positions] of MUTATING) {
    patch(target, name, (original) => function (this: unknown, ...args: unknown[]) {
      for (const i of positions) {
        const path = pathOf(args[i]);
        if (path !== undefined) written.push(path);
      }
      return original.apply(this, args);
    });
  }
  for (const [target, name] of [[fs, 'open'], [fs, 'openSync'], [fsp, 'open']] as const) {
    patch(target, name, (original) => function (this: unknown, ...args: unknown[]) {
      const path = pathOf(args[0]);
      if (path !== undefined && isWriteFlag(args[1])) written.push(path);
      return original.apply(this, args);
    });
  }
  syncBuiltinESMExports();
  return {
    written,
    restore() {
      for (const undo of restores.reverse()) undo();
      syncBuiltinESMExports();
    },
  };
}

/**
 * Simulates a full disk under `dir`: files created there with createWriteStream accept
 * `allowBytes` bytes and then fail every write with ENOSPC, as a real full disk does.
 */
export function diskFullUnder(dir: string, allowBytes: number): { readonly failures: () => number; restore(): void } {
  const root = resolve(dir);
  const original = fs.createWriteStream;
  let failures = 0;
  const patched = function (this: unknown, path: fs.PathLike, options?: unknown) {
    const real = original.call(fs, path, options as Parameters<typeof fs.createWriteStream>[1]);
    const target = pathOf(path);
    if (target === undefined || !target.startsWith(`${root}/`)) return real;
    let written = 0;
    const realWrite = real._write.bind(real) as Writable['_write'];
    real._write = (chunk: Buffer, encoding, callback) => {
      if (written + chunk.length > allowBytes) {
        failures++;
        const err = Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC', errno: -28, syscall: 'write' });
        return callback(err);
      }
      written += chunk.length;
      realWrite(chunk, encoding, callback);
    };
    // createWriteStream batches queued chunks through _writev when present; route them through _write.
    (real as { _writev?: unknown })._writev = undefined;
    return real;
  };
  (fs as { createWriteStream: unknown }).createWriteStream = patched;
  syncBuiltinESMExports();
  return {
    failures: () => failures,
    restore() {
      (fs as { createWriteStream: unknown }).createWriteStream = original;
      syncBuiltinESMExports();
    },
  };
}
