// /openapi/v2 and /openapi/v3.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { notFoundPath } from './errors.js';
import type { Registry } from './registry.js';

export function openAPIHandler(_registry: Registry, _parts: string[], _req: IncomingMessage, _res: ServerResponse): void {
  throw notFoundPath();
}
