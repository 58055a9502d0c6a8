import { isRecord } from './untrusted.js';

/**
 * npm's abbreviated version object (`application/vnd.npm.install-v1+json`, "corgi"): the fields
 * an installer needs, in the order registry.npmjs.org writes them. Checked against a real corgi
 * in test/unit/registry/abbreviated.test.ts.
 */
export const ABBREVIATED_FIELDS = [
  'name',
  'version',
  'dependencies',
  'optionalDependencies',
  'devDependencies',
  'bundleDependencies',
  'bundledDependencies',
  'peerDependencies',
  'peerDependenciesMeta',
  'acceptDependencies',
  'bin',
  'directories',
  'dist',
  'engines',
  'deprecated',
  '_hasShrinkwrap',
  'hasInstallScript',
  'cpu',
  'os',
  'libc',
  'funding',
] as const;

type AbbreviatedField = (typeof ABBREVIATED_FIELDS)[number];

/** Lifecycle scripts that run on install; their presence is what `hasInstallScript` announces. */
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'] as const;

/**
 * The abbreviated form of a full version manifest. Values are shared with `manifest`, not copied.
 * Like the registry, it leaves out what carries no information for an installer: an empty
 * `directories`, `_hasShrinkwrap: false`, and `hasInstallScript` unless it is true.
 */
export function abbreviateManifest(manifest: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of ABBREVIATED_FIELDS) {
    const value = abbreviatedValue(manifest, field);
    if (value !== undefined) out[field] = value;
  }
  return out;
}

function abbreviatedValue(manifest: Readonly<Record<string, unknown>>, field: AbbreviatedField): unknown {
  switch (field) {
    case 'directories': {
      const value = own(manifest, field);
      return isRecord(value) && Object.keys(value).length === 0 ? undefined : value;
    }
    case '_hasShrinkwrap':
      return own(manifest, field) === true ? true : undefined;
    case 'hasInstallScript':
      return hasInstallScript(manifest) ? true : undefined;
    default:
      return own(manifest, field);
  }
}

/** True when the publisher's client said so, or when `scripts` has an install lifecycle script. */
export function hasInstallScript(manifest: Readonly<Record<string, unknown>>): boolean {
  if (own(manifest, 'hasInstallScript') === true) return true;
  const scripts = own(manifest, 'scripts');
  if (!isRecord(scripts)) return false;
  return INSTALL_SCRIPTS.some((name) => {
    const script = own(scripts, name);
    return typeof script === 'string' && script.length > 0;
  });
}

function own(record: Readonly<Record<string, unknown>>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
