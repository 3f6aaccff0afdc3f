// A small JSON client for the Kubernetes REST API, over the shared transport (keep-alive
// connections, the kubeconfig's credentials).
//
// Everything herald reads and writes is plain JSON, the shape shared/api/types.ts
// describes, as watch events arrive; generated model classes (client-node's turn
// timestamps into Date and drop fields their version does not know) would hand
// reconcilers objects of two shapes.
import http from 'node:http';
import { ApiError, codeForStatus, type StatusBody } from './errors.js';
import { queryString, type Transport } from './transport.js';

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
    // A string, not a Buffer: Node then sends the headers and the body in one write, one
    // TLS record, instead of two.
    const body = ro.body === undefined ? undefined : JSON.stringify(ro.body);
    const headers: http.OutgoingHttpHeaders = { accept: 'application/json' };
    if (body !== undefined) {
      headers['content-type'] = ro.contentType ?? 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const what = `${method} ${path}`;
    let req: http.ClientRequest;
    try {
      req = await transport.request(method, path + queryString(ro.query), headers);
    } catch (err) {
      // Credentials that could not be had (a failing exec plugin, an unreadable token file).
      throw new ApiError('Unauthorized', 0, `${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return new Promise<T>((resolve, reject) => {
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(new ApiError('Network', 0, `${what}: ${err.message}`)));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          if (status >= 200 && status < 300) return resolve(parsed as T);
          if (status === 401) transport.unauthorized();
          reject(errorFor(what, status, res.headers['retry-after'], parsed, text));
        });
      });
      const limit = ro.timeoutMs ?? timeoutMs;
      req.setTimeout(limit, () => req.destroy(new ApiError('Timeout', 0, `${what}: no answer in ${limit} ms`)));
      req.on('error', (err) => reject(err instanceof ApiError ? err : new ApiError('Network', 0, `${what}: ${err.message}`)));
      req.end(body);
    });
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
