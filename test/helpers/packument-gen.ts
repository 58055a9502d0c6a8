/**
 * fast-check arbitraries for upstream packuments, hostile ones included: malformed versions,
 * dangling and non-string dist-tags, deprecated versions, `__proto__`/`constructor` keys at every
 * level we read. Every generated document goes through JSON text, so it has exactly the shape
 * `JSON.parse` gives the proxy (own `__proto__` properties included).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';

export interface GeneratedPackument {
  readonly name: string;
  /** The document as the proxy would get it from `JSON.parse`. */
  readonly doc: Record<string, unknown>;
  /** Every key of `doc.versions`, well formed or not. */
  readonly versionKeys: readonly string[];
}

export interface PackumentCase {
  readonly packument: GeneratedPackument;
  /** A subset of the version keys that the (imaginary) policy allows. */
  readonly allowed: ReadonlySet<string>;
}

const SHA512 = `sha512-${Buffer.alloc(64, 7).toString('base64')}`;

/** Small ranges so that versions often share a major and tags often have somewhere to move. */
export const versionArb: fc.Arbitrary<string> = fc
  .record({
    major: fc.integer({ min: 0, max: 3 }),
    minor: fc.integer({ min: 0, max: 2 }),
    patch: fc.integer({ min: 0, max: 2 }),
    pre: fc.option(fc.constantFrom('alpha.0', 'alpha.1', 'beta.2', 'rc.0', '0'), { nil: undefined }),
  })
  .map(({ major, minor, patch, pre }) => `${major}.${minor}.${patch}${pre === undefined ? '' : `-${pre}`}`);

/** Keys that are not valid versions, or that `isValidVersion` refuses. */
const SAFE_JUNK_VERSION_KEYS = ['not-a-version', '1.0', 'v1.0.0', '1.0.0+build.1', '9'.repeat(300)] as const;
const junkVersionKeyArb = (unsafeKeys: boolean): fc.Arbitrary<string> =>
  fc.constantFrom<string>(...SAFE_JUNK_VERSION_KEYS, ...(unsafeKeys ? ['__proto__', 'constructor'] : []));

type ManifestShape = 'ok' | 'not-object' | 'wrong-version' | 'wrong-name' | 'no-dist' | 'dist-not-object';
const shapeArb: fc.Arbitrary<ManifestShape> = fc.oneof(
  { weight: 20, arbitrary: fc.constant<ManifestShape>('ok') },
  { weight: 1, arbitrary: fc.constantFrom<ManifestShape>('not-object', 'wrong-version', 'wrong-name', 'no-dist', 'dist-not-object') },
);

interface VersionSpec {
  readonly shape: ManifestShape;
  readonly deprecated: boolean;
  readonly installScript: boolean;
  readonly hasTime: boolean;
  readonly foreignTarball: boolean;
  readonly protoKey: boolean;
}

function versionSpecArb(unsafeKeys: boolean): fc.Arbitrary<VersionSpec> {
  return fc.record({
    shape: shapeArb,
    deprecated: fc.boolean(),
    installScript: fc.boolean(),
    hasTime: fc.boolean(),
    foreignTarball: fc.boolean(),
    protoKey: unsafeKeys ? fc.boolean() : fc.constant(false),
  });
}

const SAFE_TAG_NAMES = ['latest', 'latest', 'next', 'beta', 'v1-lts', 'canary', 'has space'] as const;
const tagNameArb = (unsafeKeys: boolean): fc.Arbitrary<string> =>
  fc.constantFrom<string>(...SAFE_TAG_NAMES, ...(unsafeKeys ? ['__proto__'] : []));

/** Defines an own enumerable property, even for `__proto__` (plain assignment would set the prototype). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function manifestFor(name: string, version: string, spec: VersionSpec): unknown {
  if (spec.shape === 'not-object') return 'just a string';
  const manifest: Record<string, unknown> = {
    name: spec.shape === 'wrong-name' ? 'someone-else' : name,
    version: spec.shape === 'wrong-version' ? '0.0.0-other' : version,
    description: 'generated',
    dependencies: { 'left-pad': '^1.0.0' },
    readme: 'not in the corgi',
  };
  if (spec.installScript) manifest['scripts'] = { postinstall: 'node evil.js' };
  if (spec.deprecated) manifest['deprecated'] = 'do not use';
  if (spec.protoKey) setOwn(manifest, '__proto__', { polluted: 'manifest' });
  const host = spec.foreignTarball ? 'https://evil.example' : 'https://registry.npmjs.org';
  const dist = { integrity: SHA512, shasum: 'A'.repeat(40), tarball: `${host}/${name}/-/x-${version}.tgz` };
  if (spec.shape === 'dist-not-object') manifest['dist'] = [dist];
  else if (spec.shape !== 'no-dist') manifest['dist'] = dist;
  return manifest;
}

function buildDoc(
  name: string,
  versions: ReadonlyArray<readonly [string, VersionSpec]>,
  junkKeys: readonly string[],
  tags: ReadonlyArray<readonly [string, unknown]>,
  extras: boolean,
  unsafeKeys: boolean,
): Record<string, unknown> {
  const versionsObj: Record<string, unknown> = {};
  const time: Record<string, unknown> = { created: '2020-01-01T00:00:00.000Z', modified: '2024-01-01T00:00:00.000Z' };
  for (const [version, spec] of versions) {
    setOwn(versionsObj, version, manifestFor(name, version, spec));
    if (spec.hasTime) setOwn(time, version, '2021-06-01T00:00:00.000Z');
  }
  for (const key of junkKeys) {
    setOwn(versionsObj, key, { name, version: key, dist: { tarball: 'https://evil.example/junk.tgz' } });
    setOwn(time, key, '2021-01-01T00:00:00.000Z');
  }
  const distTags: Record<string, unknown> = {};
  for (const [tag, target] of tags) setOwn(distTags, tag, target);

  const doc: Record<string, unknown> = { _id: name, _rev: '3-abc', name, 'dist-tags': distTags, versions: versionsObj, time };
  if (extras) {
    doc['readme'] = '# hello';
    doc['_attachments'] = { 'x.tgz': { data: 'AAAA' } };
  }
  if (extras && unsafeKeys) {
    setOwn(doc, '__proto__', { polluted: 'top' });
    setOwn(time, '__proto__', { polluted: 'time' });
    doc['constructor'] = { prototype: { polluted: 'ctor' } };
    time['unpublished'] = { time: '2023-01-01T00:00:00.000Z', versions: ['0.0.1'] };
  }
  return doc;
}

export interface PackumentArbOptions {
  /**
   * Whether to put `__proto__`/`constructor` keys and `time.unpublished` in (default true). Off,
   * the documents are still odd (malformed versions, foreign tarballs, junk version keys and
   * dist-tags) but free of what a fast reader must refuse outright.
   */
  readonly unsafeKeys?: boolean;
}

/** A hostile-but-plausible packument. */
export function packumentArb({ unsafeKeys = true }: PackumentArbOptions = {}): fc.Arbitrary<GeneratedPackument> {
  return fc
    .record({
      name: fc.constantFrom('pkg', '@scope/pkg'),
      versions: fc.uniqueArray(fc.tuple(versionArb, versionSpecArb(unsafeKeys)), { maxLength: 14, selector: ([v]) => v }),
      junkKeys: fc.oneof(
        { weight: 3, arbitrary: fc.constant([]) },
        { weight: 1, arbitrary: fc.uniqueArray(junkVersionKeyArb(unsafeKeys), { maxLength: 2 }) },
      ),
      extras: fc.boolean(),
    })
    .chain(({ name, versions, junkKeys, extras }) => {
      const keys = [...versions.map(([v]) => v), ...junkKeys];
      const target: fc.Arbitrary<unknown> = fc.oneof(
        { weight: 4, arbitrary: keys.length > 0 ? fc.constantFrom(...keys) : fc.constant('1.0.0') },
        { weight: 1, arbitrary: fc.constantFrom('9.9.9', '2.0.0-rc.9', 'not-a-version', '') },
        { weight: 1, arbitrary: fc.constantFrom<unknown>(42, null, { v: '1.0.0' }) },
      );
      const tags = fc.uniqueArray(fc.tuple(tagNameArb(unsafeKeys), target), { maxLength: 5, selector: ([t]) => t });
      return tags.map((tagList) => {
        const built = buildDoc(name, versions, junkKeys, tagList, extras, unsafeKeys);
        const doc = JSON.parse(JSON.stringify(built)) as Record<string, unknown>;
        return { name, doc, versionKeys: keys };
      });
    });
}

/** A packument and a random subset of its versions to allow. */
export function packumentCaseArb(): fc.Arbitrary<PackumentCase> {
  return packumentArb().chain((packument) =>
    fc.subarray([...packument.versionKeys]).map((allowed) => ({ packument, allowed: new Set(allowed) })),
  );
}

/** The repository root: the nearest ancestor of this file whose package.json is countersign's. */
function repoRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown };
      if (name === 'countersign') return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export const REAL_PACKUMENT_NAME = 'has-package-exports';

/**
 * The real npm packument of has-package-exports from `../shared/fixtures/npm-real/`, in its full
 * or abbreviated form, or undefined when that folder is absent (the caller skips, saying why).
 */
export function loadRealPackument(form: 'full' | 'corgi'): unknown {
  const root = repoRoot();
  if (root === undefined) return undefined;
  const file = join(root, '..', 'shared', 'fixtures', 'npm-real', `${REAL_PACKUMENT_NAME}.${form}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as unknown) : undefined;
}
