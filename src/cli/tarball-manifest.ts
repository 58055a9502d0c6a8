import { gunzipSync } from 'node:zlib';
import { CountersignError } from '../errors.js';
import { isJsonObject } from '../trust/strict-json.js';

function field(block: Buffer, start: number, length: number): string {
  const raw = block.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? raw.length : end).toString('utf8');
}

/**
 * `name` and `version` from the top-level package.json of an npm tarball (`package/package.json`
 * in what npm pack writes): a minimal ustar reader, enough for `countersign sign`.
 */
export function tarballManifest(tgz: Buffer, file: string): { name: string; version: string } {
  let tar: Buffer;
  try {
    tar = gunzipSync(tgz, { maxOutputLength: 1024 ** 3 });
  } catch (err) {
    throw new CountersignError('ECS_USAGE', `${file} is not a gzipped tarball (${(err as Error).message}); sign the .tgz that npm pack wrote`);
  }
  let offset = 0;
  let longName: string | undefined;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const size = parseInt(field(header, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] ?? 0x30);
    const prefix = field(header, 345, 155);
    const path = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    longName = undefined;
    const body = tar.subarray(offset + 512, offset + 512 + size);
    if (type === 'L') longName = body.toString('utf8').replace(/\0+$/, '');
    else if ((type === '0' || type === '\0') && /^[^/]+\/package\.json$/.test(path)) {
      let manifest: unknown;
      try {
        manifest = JSON.parse(body.toString('utf8'));
      } catch {
        manifest = undefined;
      }
      if (isJsonObject(manifest) && typeof manifest.name === 'string' && typeof manifest.version === 'string') return { name: manifest.name, version: manifest.version };
      break;
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  throw new CountersignError('ECS_USAGE', `${file} has no package/package.json with a name and version; pass --name and --version`);
}
