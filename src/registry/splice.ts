/**
 * The full form of a packument read by scan.ts, made from the upstream's own bytes: the hidden
 * versions and their `time` entries cut out, each `dist.tarball` replaced by countersign's URL,
 * `dist-tags` replaced by the repointed tags, `_attachments` left out. Everything else is copied
 * as the upstream wrote it, so a client's `JSON.parse` of the result gives what
 * `renderPackument(prepareRender(parsePackument(…)))` gives (up to the order of the top-level
 * members: this keeps the upstream's). Pure.
 */
import type { TarballUrl } from './render.js';
import { stringMapJson } from './render.js';
import type { ScannedPackument } from './scan.js';

const COMMA = Buffer.from(',');
const OPEN = Buffer.from('{');
const CLOSE = Buffer.from('}');
const TIME_META_KEYS: ReadonlySet<string> = new Set(['created', 'modified']);

export interface SplicedPackument {
  readonly body: Buffer;
  /** Where each served manifest is in `body` (`[start, end)`). */
  readonly manifestRanges: ReadonlyMap<string, readonly [number, number]>;
}

/**
 * The full form with only the `served` versions (which must be versions of `scanned`), the
 * dist-tags `tags` (already repointed over them) and tarball URLs from `tarballUrl`.
 */
export function spliceFullForm(scanned: ScannedPackument, served: ReadonlySet<string>, tags: ReadonlyMap<string, string>, tarballUrl: TarballUrl): SplicedPackument {
  const { body } = scanned;
  const parts: Buffer[] = [OPEN];
  let length = 1;
  const push = (part: Buffer) => {
    parts.push(part);
    length += part.length;
  };
  const manifestRanges = new Map<string, readonly [number, number]>();
  let firstMember = true;
  for (const member of scanned.members) {
    if (member.key === '_attachments') continue;
    if (!firstMember) push(COMMA);
    firstMember = false;
    if (member.key === 'dist-tags') {
      push(Buffer.from(`"dist-tags":${stringMapJson(tags)}`, 'utf8'));
    } else if (member.key === 'versions') {
      push(Buffer.from('"versions":{'));
      let first = true;
      for (const [version, at] of scanned.versions) {
        if (!served.has(version)) continue;
        if (!first) push(COMMA);
        first = false;
        const manifestStart = length + at.start - at.keyStart;
        push(body.subarray(at.keyStart, at.tarballStart));
        push(Buffer.from(JSON.stringify(tarballUrl(scanned.name, version)), 'utf8'));
        push(body.subarray(at.tarballEnd, at.end));
        manifestRanges.set(version, [manifestStart, length]);
      }
      push(CLOSE);
    } else if (member.key === 'time') {
      push(Buffer.from('"time":{'));
      let first = true;
      for (const entry of scanned.time) {
        if (entry.value === undefined || !(TIME_META_KEYS.has(entry.key) || served.has(entry.key))) continue;
        if (!first) push(COMMA);
        first = false;
        push(body.subarray(entry.start, entry.end));
      }
      push(CLOSE);
    } else {
      push(body.subarray(member.start, member.end));
    }
  }
  push(CLOSE);
  return { body: Buffer.concat(parts, length), manifestRanges };
}
