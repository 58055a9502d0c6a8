import { CountersignError } from '../errors.js';
import { parsePackageName, isValidVersion } from '../registry/name.js';

/** `left-pad@1.0.0` or `@acme/widget@1.2.3`: an exact version, as audits need. */
export function parsePackageSpec(spec: string | undefined, command: string): { name: string; version: string } {
  if (spec === undefined) throw new CountersignError('ECS_USAGE', `countersign ${command}: give the package as name@version (e.g. left-pad@1.3.0)`);
  const at = spec.lastIndexOf('@');
  const name = at > 0 ? spec.slice(0, at) : spec;
  const version = at > 0 ? spec.slice(at + 1) : '';
  if (!parsePackageName(name)) throw new CountersignError('ECS_USAGE', `countersign ${command}: ${JSON.stringify(name)} is not an npm package name`);
  if (!isValidVersion(version)) throw new CountersignError('ECS_USAGE', `countersign ${command}: give an exact version, as in ${name}@1.2.3 (got ${JSON.stringify(version || spec)})`);
  return { name, version };
}

/** `/left-pad/1.0.0` or `/@acme/widget/1.2.3` under an API route. */
export function apiPath(route: string, name: string, version: string): string {
  return `/-/countersign/v1/${route}/${name}/${encodeURIComponent(version)}`;
}
