import type { IncomingMessage, ServerResponse } from 'node:http';
import { CountersignError } from '../errors.js';
import { sendError } from './respond.js';

/**
 * Enforces `server.maxRequestBody` on a body that is streamed elsewhere (a proxy): a declared
 * length over the cap is refused up front, a chunked body is cut when it crosses the cap.
 */
export function limitBody(req: IncomingMessage, res: ServerResponse, cap: number): void {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > cap) {
    throw new CountersignError('ECS_BODY_TOO_LARGE', `request body of ${declared} bytes is over the ${cap}-byte cap (server.maxRequestBody)`);
  }
  let seen = 0;
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > cap && !req.destroyed) {
      sendError(res, new CountersignError('ECS_BODY_TOO_LARGE', `request body is over the ${cap}-byte cap (server.maxRequestBody)`));
      req.destroy();
    }
  });
}
