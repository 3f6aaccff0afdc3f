// /openapi/v2 and /openapi/v3.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { notFoundPath } from './errors.js';
import type { Registry } from './registry.js';

export function openAPIHandler(_registry: Registry, parts: string[], _req: IncomingMessage, res: ServerResponse): void {
  if (parts[0] === 'v2') {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': '0' });
    res.end();
    return;
  }
  throw notFoundPath();
}
