import { CountersignError } from '../errors.js';
import { decodedBody, readCapped, type BodySink, type UpstreamClient } from './client.js';

export type PackumentFetch =
  | { readonly status: 'ok'; readonly body: Buffer; readonly etag: string | undefined; readonly lastModified: string | undefined }
  | { readonly status: 'not-modified' }
  | { readonly status: 'not-found' };

/** The packument path npm uses: `@scope%2fname` for scoped names. */
export function packumentPath(name: string): string {
  return name.startsWith('@') ? name.replace('/', '%2f') : name;
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Fetches the full packument (the abbreviated one has no `time`, which release age and key expiry
 * need). With `etag`, asks for revalidation and may get `not-modified`. `into` receives the
 * decoded body of a 200 as it arrives, and holds the body returned.
 */
export async function fetchPackument(
  client: UpstreamClient,
  upstreamName: string,
  name: string,
  options: { etag?: string | undefined; maxBytes: number; into?: BodySink | undefined },
): Promise<PackumentFetch> {
  const upstream = client.upstream(upstreamName);
  const what = `the packument of ${name}`;
  const headers: Record<string, string> = { accept: 'application/json', 'accept-encoding': 'gzip, br' };
  if (options.etag !== undefined) headers['if-none-match'] = options.etag;
  const response = await client.request(upstream.name, upstream.url + packumentPath(name), { headers, what, kind: 'packument' });
  const { statusCode } = response;
  if (statusCode === 304 && options.etag !== undefined) {
    response.body.resume();
    return { status: 'not-modified' };
  }
  if (statusCode === 404 || statusCode === 410) {
    response.body.resume();
    return { status: 'not-found' };
  }
  if (statusCode !== 200) {
    response.body.resume();
    const hint = statusCode === 401 || statusCode === 403 ? ' (check the token configured for this upstream)' : '';
    throw new CountersignError('ECS_UPSTREAM_STATUS', `upstream ${upstream.name} answered ${statusCode} for ${what}${hint}`, {
      details: { upstream: upstream.name, upstreamStatus: statusCode },
    });
  }
  const declared = Number(header(response.headers['content-length']));
  if (Number.isFinite(declared) && declared > options.maxBytes && header(response.headers['content-encoding']) === undefined) {
    response.body.destroy();
    throw new CountersignError('ECS_UPSTREAM_TOO_LARGE', `${what} from upstream ${upstream.name} is ${declared} bytes, over the ${options.maxBytes}-byte cap (packuments.maxSize)`);
  }
  const body = await readCapped(decodedBody(response), options.maxBytes, upstream.name, what, 'packuments.maxSize', { into: options.into });
  return { status: 'ok', body, etag: header(response.headers.etag), lastModified: header(response.headers['last-modified']) };
}
