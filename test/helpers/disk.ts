import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Digests of the tarballs in the disk cache of a countersign data dir. */
export function cachedTarballs(dataDir: string): string[] {
  const root = join(dataDir, 'tarballs', 'sha512');
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name).sort();
}

/** Files left in the tarball store's scratch dir (partial downloads). */
export function scratchFiles(dataDir: string): string[] {
  const tmp = join(dataDir, 'tarballs', 'tmp');
  return existsSync(tmp) ? readdirSync(tmp) : [];
}

/** Waits for the disk cache (written after the response is sent) to hold `hex`. */
export async function cachedSoon(dataDir: string, hex: string, timeoutMs = 2_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (cachedTarballs(dataDir).includes(hex)) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return cachedTarballs(dataDir).includes(hex);
}

/** Every file and directory under `dir` with its size and mtime, for before/after comparisons. */
export function snapshotTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (path: string): void => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      const s = statSync(full, { throwIfNoEntry: false });
      if (!s) continue;
      out.set(relative(dir, full), entry.isDirectory() ? 'dir' : `${s.size}:${s.mtimeMs}`);
      if (entry.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return out;
}
