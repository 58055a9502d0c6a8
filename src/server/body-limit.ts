import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import { CountersignError } from '../errors.js';
import { sendError } from './respond.js';

/**
 * The request body as a stream capped at `server.maxRequestBody`, for a proxy to send on: a
 * declared length over the cap is refused up front, a chunked body is cut when it crosses it.
 * (Listening to the request's own 'data' events instead would start the flow before the proxy
 * pipes it, and lose the first chunks.)
 */
export function cappedBody(req: IncomingMessage, res: ServerResponse, cap: number): Readable {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > cap) {
    throw new CountersignError('ECS_BODY_TOO_LARGE', `request body of ${declared} bytes is over the ${cap}-byte cap (server.maxRequestBody)`);
  }
  let seen = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > cap) callback(new CountersignError('ECS_BODY_TOO_LARGE', `request body is over the ${cap}-byte cap (server.maxRequestBody)`));
      else callback(null, chunk);
    },
  });
  counter.on('error', (err) => {
    sendError(res, err);
    req.destroy();
  });
  return req.pipe(counter);
}

/** Replaces the request's headers with those `keep` allows, before a proxy copies them. */
export function keepHeaders(req: IncomingMessage, keep: (name: string) => boolean): void {
  for (const name of Object.keys(req.headers)) if (!keep(name)) delete req.headers[name];
}
