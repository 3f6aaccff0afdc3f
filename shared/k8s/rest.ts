// A small JSON client for the Kubernetes REST API, over the shared transport (keep-alive
// connections, the kubeconfig's credentials).
//
// Everything herald reads and writes is plain JSON, the shape shared/api/types.ts
// describes, as watch events arrive; generated model classes (client-node's turn
// timestamps into Date and drop fields their version does not know) would hand
// reconcilers objects of two shapes.
import http from 'node:http';
import { ApiError, codeForStatus, type StatusBody } from './errors.js';
import { Http1Timeout } from './http1.js';
import type { Http1Response } from './http1-parser.js';
import { CredentialError, queryString, type Transport } from './transport.js';

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Default application/json; patches name their kind. */
  contentType?: string;
  timeoutMs?: number;
}

export const MERGE_PATCH = 'application/merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';

export interface RestClient {
  /** The API server's base URL. */
  readonly server: string;
  request<T>(method: string, path: string, opts?: RequestOptions): Promise<T>;
  /** Closes its connections (in-flight requests fail); for shutdown. */
  close(): void;
}

export interface RestClientOptions {
  timeoutMs?: number;
}

export function createRestClient(transport: Transport, o: RestClientOptions = {}): RestClient {
  const timeoutMs = o.timeoutMs ?? 30_000;

  const request = async <T>(method: string, path: string, ro: RequestOptions = {}): Promise<T> => {
    const body = ro.body === undefined ? undefined : JSON.stringify(ro.body);
    const headers: Record<string, string | number> = { accept: 'application/json' };
    if (body !== undefined) {
      headers['content-type'] = ro.contentType ?? 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const what = `${method} ${path}`;
    const limit = ro.timeoutMs ?? timeoutMs;
    let res: Http1Response;
    try {
      res = await transport.exchange(method, path + queryString(ro.query), headers, body, limit);
    } catch (err) {
      if (err instanceof CredentialError) {
        // Credentials that could not be had (a failing exec plugin, an unreadable token file).
        throw new ApiError('Unauthorized', 0, `${what}: ${err.message}`);
      }
      if (err instanceof Http1Timeout) throw new ApiError('Timeout', 0, `${what}: no answer in ${limit} ms`);
      throw new ApiError('Network', 0, `${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const status = res.status;
    const text = res.body.toString('utf8');
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (status >= 200 && status < 300) return parsed as T;
    if (status === 401) transport.unauthorized();
    throw errorFor(what, status, res.headers['retry-after'], parsed, text);
  };

  return { server: transport.server, request, close: () => transport.close() };
}

/** An ApiError from a non-2xx answer, its metav1.Status body when there is one. */
export function errorFor(what: string, status: number, retryAfter: string | string[] | undefined, parsed: unknown, text: string): ApiError {
  const sb = (parsed && typeof parsed === 'object' ? parsed : undefined) as StatusBody | undefined;
  const ra = Number(retryAfter ?? sb?.details?.retryAfterSeconds);
  return new ApiError(
    codeForStatus(status, sb?.reason),
    status,
    `${what}: ${status} ${sb?.message ?? (text.slice(0, 200) || http.STATUS_CODES[status] || '')}`,
    sb,
    Number.isFinite(ra) && ra > 0 ? ra : undefined,
  );
}
