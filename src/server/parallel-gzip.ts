import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { constants, crc32, deflateRaw as deflateRawCallback, gzip as gzipCallback } from 'node:zlib';
import { ZLIB_CHUNK_BYTES } from '../zlib-chunk.js';

const gzip = promisify(gzipCallback);
const deflateRaw = promisify(deflateRawCallback);

/** Pieces smaller than this are not worth a thread of their own. */
export const MIN_PIECE_BYTES = 1024 * 1024;
/** libuv's thread pool runs four jobs at a time unless UV_THREADPOOL_SIZE says otherwise. */
const MAX_PIECES = Math.max(2, Math.min(4, availableParallelism() * 2));
/** Deflate looks back at most 32 KB: all a piece needs of the bytes before it. */
const WINDOW_BYTES = 32 * 1024;
/** Magic, deflate, no flags, no mtime, no extra flags, OS "Unix": what zlib writes itself. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]);

/**
 * Gzip of `body` as one ordinary gzip member, compressed in pieces on several threads of the pool
 * (pigz's layout): each piece is raw deflate primed with the 32 KB before it as its dictionary
 * and ended with a sync flush (byte-aligned, not final), the last one finished; the pieces then
 * join into one deflate stream, framed by a gzip header and the CRC-32 and size of the whole.
 * The output is what any gunzip reads, within a few hundred bytes of zlib's own for 10 MB of
 * JSON, and the same bytes for the same input. A 10 MB packument is the cold request's last step:
 * on two cores this takes it from ~30 to ~18 ms. Small bodies go to zlib in one piece.
 */
export async function parallelGzip(body: Buffer, level: number = constants.Z_DEFAULT_COMPRESSION): Promise<Buffer> {
  const pieces = Math.min(MAX_PIECES, Math.floor(body.length / MIN_PIECE_BYTES));
  if (pieces < 2) return gzip(body, { level, chunkSize: ZLIB_CHUNK_BYTES });
  const size = Math.ceil(body.length / pieces);
  const deflated: Array<Promise<Buffer>> = [];
  for (let start = 0; start < body.length; start += size) {
    const end = Math.min(body.length, start + size);
    deflated.push(
      deflateRaw(body.subarray(start, end), {
        level,
        chunkSize: ZLIB_CHUNK_BYTES,
        finishFlush: end === body.length ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
        ...(start > 0 ? { dictionary: body.subarray(Math.max(0, start - WINDOW_BYTES), start) } : {}),
      }),
    );
  }
  const trailer = Buffer.allocUnsafe(8);
  trailer.writeUInt32LE(crc32(body), 0);
  trailer.writeUInt32LE(body.length % 2 ** 32, 4);
  return Buffer.concat([GZIP_HEADER, ...(await Promise.all(deflated)), trailer]);
}
