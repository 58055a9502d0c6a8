import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';

const HEX512 = /^[0-9a-f]{128}$/;

export interface TarballWriter {
  /** Queues a chunk; never throws. A failed disk (ENOSPC, EIO) only means the tarball is not cached. */
  write(chunk: Buffer): void;
  /** Publishes the file under its digest. Resolves false when the write failed and nothing was kept. */
  commit(): Promise<boolean>;
  /** Drops the partial file. */
  abort(): Promise<void>;
}

interface Entry {
  size: number;
  usedAt: number;
}

/**
 * Verified tarballs on disk, addressed by the hex sha512 of their bytes:
 * `<dir>/sha512/ab/cd/<hex>`. Files appear atomically (written under tmp/, then renamed), so a
 * crash or a full disk never leaves a partial file under its digest. Total size is kept under
 * `maxBytes` by dropping the least recently used files.
 */
export class TarballStore {
  readonly #dir: string;
  readonly #tmp: string;
  readonly #maxBytes: number;
  readonly #entries = new Map<string, Entry>();
  #total = 0;

  private constructor(dir: string, maxBytes: number) {
    this.#dir = dir;
    this.#tmp = join(dir, 'tmp');
    this.#maxBytes = maxBytes;
  }

  static async open(dir: string, maxBytes: number): Promise<TarballStore> {
    const store = new TarballStore(dir, maxBytes);
    await rm(store.#tmp, { recursive: true, force: true });
    await mkdir(store.#tmp, { recursive: true });
    await store.#scan();
    await store.#evict();
    return store;
  }

  async #scan(): Promise<void> {
    const root = join(this.#dir, 'sha512');
    const found: Array<[string, Entry]> = [];
    const walk = async (dir: string, depth: number): Promise<void> => {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        return;
      }
      for (const name of names) {
        const path = join(dir, name);
        if (depth < 2) {
          if (/^[0-9a-f]{2}$/.test(name)) await walk(path, depth + 1);
        } else if (HEX512.test(name)) {
          const s = await stat(path).catch(() => undefined);
          if (s?.isFile()) found.push([name, { size: s.size, usedAt: s.mtimeMs }]);
        }
      }
    };
    await walk(root, 0);
    found.sort((a, b) => a[1].usedAt - b[1].usedAt);
    for (const [hex, entry] of found) {
      this.#entries.set(hex, entry);
      this.#total += entry.size;
    }
  }

  pathOf(hex: string): string {
    if (!HEX512.test(hex)) throw new TypeError('not a hex sha512 digest');
    return join(this.#dir, 'sha512', hex.slice(0, 2), hex.slice(2, 4), hex);
  }

  has(hex: string): boolean {
    return this.#entries.has(hex);
  }

  get totalBytes(): number {
    return this.#total;
  }

  sizeOf(hex: string): number | undefined {
    return this.#entries.get(hex)?.size;
  }

  /** A stream of the cached file, or undefined when it is not (or no longer) cached. */
  read(hex: string): ReadStream | undefined {
    const entry = this.#entries.get(hex);
    if (!entry) return undefined;
    entry.usedAt = Date.now();
    // Re-insert to keep the Map in least-recently-used order.
    this.#entries.delete(hex);
    this.#entries.set(hex, entry);
    const path = this.pathOf(hex);
    // mtime records use across restarts; losing it only weakens eviction order.
    utimes(path, new Date(), new Date()).catch(() => {});
    return createReadStream(path);
  }

  /** Drops an entry whose file turned out to be missing or unreadable. */
  forget(hex: string): void {
    const entry = this.#entries.get(hex);
    if (!entry) return;
    this.#entries.delete(hex);
    this.#total -= entry.size;
    unlink(this.pathOf(hex)).catch(() => {});
  }

  writer(hex: string): TarballWriter {
    const final = this.pathOf(hex);
    const tmp = join(this.#tmp, `${hex.slice(0, 16)}-${randomBytes(6).toString('hex')}`);
    let failed = false;
    let size = 0;
    let stream: WriteStream | undefined = createWriteStream(tmp, { flags: 'wx' });
    stream.on('error', () => {
      failed = true;
    });
    const finish = (s: WriteStream) => new Promise<void>((resolve) => {
      if (s.closed) return resolve();
      s.once('close', () => resolve());
      s.end();
    });
    return {
      write: (chunk) => {
        if (failed || !stream) return;
        size += chunk.length;
        stream.write(chunk);
      },
      commit: async () => {
        const s = stream;
        stream = undefined;
        if (!s) return false;
        await finish(s);
        if (failed || this.#entries.has(hex)) {
          await rm(tmp, { force: true });
          return !failed;
        }
        try {
          await mkdir(join(final, '..'), { recursive: true });
          await rename(tmp, final);
        } catch {
          await rm(tmp, { force: true });
          return false;
        }
        this.#entries.set(hex, { size, usedAt: Date.now() });
        this.#total += size;
        await this.#evict();
        return true;
      },
      abort: async () => {
        const s = stream;
        stream = undefined;
        if (s) await finish(s);
        await rm(tmp, { force: true });
      },
    };
  }

  async #evict(): Promise<void> {
    for (const [hex, entry] of this.#entries) {
      if (this.#total <= this.#maxBytes) break;
      this.#entries.delete(hex);
      this.#total -= entry.size;
      await unlink(this.pathOf(hex)).catch(() => {});
    }
  }
}
