import { CountersignError, ERROR_CATALOG, type ErrorCode } from '../errors.js';

/** The proxy a command talks to: --registry, else COUNTERSIGN_URL, else the local default. */
export const DEFAULT_REGISTRY = 'http://localhost:4874/';

export function registryUrl(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const text = flag ?? (env.COUNTERSIGN_URL || DEFAULT_REGISTRY);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CountersignError('ECS_USAGE', `--registry ${JSON.stringify(text)} is not a URL; use the address of countersign, like ${DEFAULT_REGISTRY}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CountersignError('ECS_USAGE', `--registry must be an http(s) URL (got ${text})`);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url.href;
}

/** COUNTERSIGN_ADMIN_TOKEN, required by admin commands sent to a running server. */
export function adminToken(env: NodeJS.ProcessEnv = process.env): string {
  const token = env.COUNTERSIGN_ADMIN_TOKEN;
  if (!token) {
    throw new CountersignError('ECS_USAGE', 'this is an admin command: set COUNTERSIGN_ADMIN_TOKEN to the server\'s admin token, or run it on the server with --data-dir (or --config)');
  }
  return token;
}

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

export interface RequestOptions {
  readonly body?: string | Uint8Array;
  readonly contentType?: string;
  readonly token?: string;
}

function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CATALOG, code);
}

/** One request to countersign; a non-2xx answer becomes the server's CountersignError (same code, same message). */
export async function call(base: string, method: string, path: string, options: RequestOptions = {}): Promise<Reply> {
  const url = new URL(path.replace(/^\//, ''), base);
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'countersign-cli' };
  if (options.contentType) headers['content-type'] = options.contentType;
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let res: Response;
  try {
    res = await fetch(url, { method, headers, ...(options.body !== undefined ? { body: options.body } : {}), signal: AbortSignal.timeout(120_000) });
  } catch (err) {
    const inner = (err as { cause?: { code?: string; message?: string } }).cause;
    const cause = inner?.code ?? inner?.message ?? (err as Error).message;
    throw new CountersignError('ECS_REGISTRY_UNREACHABLE', `cannot reach countersign at ${base} (${cause}): start it (countersign serve), or pass --registry URL or set COUNTERSIGN_URL`, { cause: err });
  }
  const text = await res.text();
  if (res.ok) return { status: res.status, headers: res.headers, text };
  let code: unknown;
  let message = `${method} ${url.pathname} answered ${res.status}`;
  try {
    const body = JSON.parse(text) as { code?: unknown; error?: unknown };
    code = body.code;
    if (typeof body.error === 'string') message = body.error;
  } catch {
    // not JSON: keep the status line
  }
  if (res.status === 404 && code === 'ECS_NOT_FOUND' && method !== 'GET') {
    message = `${message} (is this countersign, and is its admin API on? it needs COUNTERSIGN_ADMIN_TOKEN set on the server)`;
  }
  const retryAfter = res.headers.get('retry-after');
  if (retryAfter) message = `${message} (retry after ${retryAfter} s)`;
  throw new CountersignError(isErrorCode(code) ? code : 'ECS_INTERNAL', message, { details: { status: res.status } });
}

export async function callJson<T>(base: string, method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const reply = await call(base, method, path, options);
  return JSON.parse(reply.text) as T;
}
