import type { IncomingMessage } from 'node:http';
import type { Config } from '../../../config/types.js';
import { CountersignError } from '../../../errors.js';
import type { Logger } from '../../../log.js';
import { assertPackageName, isValidVersion } from '../../../registry/name.js';
import { isJsonObject, parseStrictJson, StrictJsonError } from '../../../trust/strict-json.js';
import type { PackumentService } from '../../packument-service.js';
import type { TrustRuntime } from '../../trust-runtime.js';

export const API_PREFIX = '/-/countersign/v1';

/** What the trust API routes need from the app. */
export interface ApiDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly trust: TrustRuntime;
  readonly packuments: PackumentService;
  /** COUNTERSIGN_ADMIN_TOKEN; undefined = the admin API does not exist. */
  readonly adminToken: string | undefined;
  readonly now: () => number;
}

/** Reads a request body up to `limit` bytes; over it is ECS_BODY_TOO_LARGE naming the setting. */
export function readBody(req: IncomingMessage, limit: number, setting: string): Promise<Buffer> {
  const tooLarge = () => new CountersignError('ECS_BODY_TOO_LARGE', `request body is over the ${limit}-byte cap (${setting})`);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** A JSON object body, strictly parsed (no duplicate keys). */
export async function readJsonObject(req: IncomingMessage, limit: number, setting = 'trust.maxDocumentSize'): Promise<Record<string, unknown>> {
  const body = await readBody(req, limit, setting);
  let value: unknown;
  try {
    value = parseStrictJson(body, { maxBytes: limit });
  } catch (err) {
    if (err instanceof StrictJsonError) throw new CountersignError('ECS_RECORD_INVALID', `the request body is not strict JSON: ${err.message}`);
    throw err;
  }
  if (!isJsonObject(value)) throw new CountersignError('ECS_RECORD_INVALID', 'the request body must be a JSON object');
  return value;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new CountersignError('ECS_BAD_PATH', 'the URL has a malformed %-escape');
  }
}

/** `/left-pad/1.0.0`, `/@scope/name/1.0.0` or `/@scope%2fname/1.0.0` after an API prefix. */
export function nameAndVersion(rest: string, suffix = ''): { name: string; version: string } {
  const segments = rest.replace(/^\//, '').split('/').map(decode);
  const last = segments.length - 1;
  if (suffix) {
    if (!segments[last]?.endsWith(suffix)) throw new CountersignError('ECS_BAD_PATH', `expected a path ending in <version>${suffix}`);
    segments[last] = segments[last]!.slice(0, -suffix.length);
  }
  const scoped = segments[0]?.startsWith('@') === true && !segments[0].includes('/');
  const expected = scoped ? 3 : 2;
  if (segments.length !== expected) throw new CountersignError('ECS_BAD_PATH', `expected <name>/<version>${suffix} (a scoped name as @scope/name)`);
  const name = scoped ? `${segments[0]}/${segments[1]}` : segments[0]!;
  const version = segments[expected - 1]!;
  assertPackageName(name);
  if (!isValidVersion(version)) throw new CountersignError('ECS_BAD_VERSION', `"${version.slice(0, 64)}" is not a semver version`);
  return { name, version };
}
