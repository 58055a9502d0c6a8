import semver from 'semver';

/** What the dist-tag rule needs to know about each version that stays in the packument. */
export interface AllowedVersion {
  readonly deprecated: boolean;
}

/** One change made to the upstream dist-tags. `from: null` = the tag was absent; `to: null` = dropped. */
export interface DistTagMove {
  readonly tag: string;
  readonly from: string | null;
  readonly to: string | null;
}

export interface RepointedTags {
  readonly tags: Map<string, string>;
  readonly moved: DistTagMove[];
}

interface Candidate {
  readonly version: string;
  readonly parsed: semver.SemVer;
  readonly prerelease: boolean;
  readonly deprecated: boolean;
}

/**
 * Applies DESIGN §2 to the upstream dist-tags, given the versions that stay (`allowed`):
 * - a tag on an allowed version stays;
 * - a tag on any other version moves to the highest allowed version with the same major and the
 *   same prerelease status, preferring non-deprecated versions; if there is none it is dropped,
 *   except `latest`, which falls back to the highest allowed stable version;
 * - `latest` is added when the upstream has none and a stable version is allowed.
 * A tag in the result always names a key of `allowed`. Tags keep their upstream order; an added
 * `latest` comes first.
 */
export function repointDistTags(
  tags: ReadonlyMap<string, string>,
  allowed: ReadonlyMap<string, AllowedVersion>,
): RepointedTags {
  const out = new Map<string, string>();
  const moved: DistTagMove[] = [];
  // Parsing every allowed version costs ~1 µs each; most packuments need no move, so defer it.
  let pool: Candidate[] | undefined;
  const candidates = (): Candidate[] => (pool ??= candidatesOf(allowed));

  for (const [tag, version] of tags) {
    if (allowed.has(version)) {
      out.set(tag, version);
      continue;
    }
    const target = replacementFor(tag, version, candidates());
    moved.push({ tag, from: version, to: target ?? null });
    if (target !== undefined) out.set(tag, target);
  }

  if (!tags.has('latest')) {
    const latest = highestPreferred(candidates(), (c) => !c.prerelease);
    if (latest !== undefined) {
      moved.push({ tag: 'latest', from: null, to: latest });
      return { tags: new Map([['latest', latest], ...out]), moved };
    }
  }
  return { tags: out, moved };
}

/** The version a tag on a hidden or unknown `version` moves to, or undefined to drop it. */
function replacementFor(tag: string, version: string, pool: readonly Candidate[]): string | undefined {
  const parsed = semver.parse(version);
  if (parsed !== null) {
    const prerelease = parsed.prerelease.length > 0;
    const sameLine = highestPreferred(pool, (c) => c.parsed.major === parsed.major && c.prerelease === prerelease);
    if (sameLine !== undefined) return sameLine;
  }
  return tag === 'latest' ? highestPreferred(pool, (c) => !c.prerelease) : undefined;
}

/** The highest non-deprecated candidate that passes `filter`, else the highest deprecated one. */
function highestPreferred(pool: readonly Candidate[], filter: (c: Candidate) => boolean): string | undefined {
  let best: Candidate | undefined;
  let bestDeprecated: Candidate | undefined;
  for (const c of pool) {
    if (!filter(c)) continue;
    if (c.deprecated) {
      if (bestDeprecated === undefined || isHigher(c, bestDeprecated)) bestDeprecated = c;
    } else if (best === undefined || isHigher(c, best)) {
      best = c;
    }
  }
  return (best ?? bestDeprecated)?.version;
}

// Build metadata breaks ties, so that 1.0.0+a and 1.0.0+b have one order whatever the map order.
function isHigher(a: Candidate, b: Candidate): boolean {
  return (a.parsed.compare(b.parsed) || a.parsed.compareBuild(b.parsed)) > 0;
}

function candidatesOf(allowed: ReadonlyMap<string, AllowedVersion>): Candidate[] {
  const pool: Candidate[] = [];
  for (const [version, info] of allowed) {
    const parsed = semver.parse(version);
    if (parsed === null) continue;
    pool.push({ version, parsed, prerelease: parsed.prerelease.length > 0, deprecated: info.deprecated });
  }
  return pool;
}
