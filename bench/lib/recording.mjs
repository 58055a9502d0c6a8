// Where the recording lives, and how npm is run isolated from the machine's own configuration.
import { join } from 'node:path';

export function recordingPaths(root) {
  return {
    root,
    manifest: join(root, 'manifest.json'),
    lock: join(root, 'package-lock.json'),
    packuments: join(root, 'packuments'),
    tarballs: join(root, 'tarballs'),
  };
}

export function packumentFile(paths, name) {
  return join(paths.packuments, `${encodeURIComponent(name)}.json`);
}

export function tarballFile(paths, name, version) {
  return join(paths.tarballs, `${encodeURIComponent(name)}@${version}.tgz`);
}

/** The environment for an npm child: nothing npm-related or proxy-related from the caller. */
export function isolatedNpmEnv() {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    // npm scripts export dozens of npm_config_* and npm_package_* variables.
    if (/^npm_/i.test(key) || /^(https?|all|no)_proxy$/i.test(key)) continue;
    env[key] = value;
  }
  return { ...env, NO_PROXY: '*', no_proxy: '*' };
}

/**
 * Flags that cut npm off from the machine's configuration: its own (empty) user and global
 * config, its own cache, no audit/fund/update checks, no lifecycle scripts.
 */
export function isolatedNpmArgs({ userconfig, globalconfig, cache, registry }) {
  return [
    `--userconfig=${userconfig}`,
    `--globalconfig=${globalconfig}`,
    `--cache=${cache}`,
    `--registry=${registry}`,
    '--ignore-scripts',
    '--no-audit',
    '--no-fund',
    '--no-update-notifier',
    '--loglevel=error',
  ];
}
