/** Calls to a running countersign's trust API, as the CLI makes them. */

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
}

export async function api(base: string, method: string, path: string, options: { body?: unknown; raw?: string; token?: string; headers?: Record<string, string> } = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.raw !== undefined) body = options.raw;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(new URL(path, base), { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : { text } };
}

/** Enrols a key through the admin API. */
export async function enrolKey(base: string, request: Record<string, unknown>): Promise<ApiResponse> {
  return api(base, 'POST', '/-/countersign/v1/keys', { body: request, token: ADMIN_TOKEN });
}

export async function submitDocument(base: string, envelope: string, headers: Record<string, string> = {}): Promise<ApiResponse> {
  return api(base, 'POST', '/-/countersign/v1/documents', { raw: envelope, headers });
}

/** The sha512 of a version as countersign sees it (hidden versions too). */
export async function sha512Of(base: string, name: string, version: string): Promise<string> {
  const res = await api(base, 'GET', `/-/countersign/v1/status/${name}/${version}`);
  if (res.status !== 200 || typeof res.body.sha512 !== 'string') throw new Error(`status of ${name}@${version}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.sha512;
}
