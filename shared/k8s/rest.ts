// A small JSON client for the Kubernetes REST API, authenticated by client-node's
// KubeConfig (tokens, client certificates, exec plugins, in-cluster service accounts).
//
// Why not client-node's generated API classes for lists and writes: they deserialize into
// model classes (timestamps become Date, fields the 1.4.0 models do not know are
// dropped), while watch events arrive as plain JSON. An informer that mixed the two would
// hand reconcilers objects of two shapes. Everything herald reads and writes is plain JSON
// here, the shape shared/api/types.ts describes.
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { ApiError, codeForStatus, type StatusBody } from './errors.js';

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
  userAgent?: string;
}

export function createRestClient(kc: KubeConfig, o: RestClientOptions = {}): RestClient {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const base = new URL(cluster.server);
  const isHttps = base.protocol === 'https:';
  const timeoutMs = o.timeoutMs ?? 30_000;
  let agent: http.Agent | undefined;

  const request = async <T>(method: string, path: string, ro: RequestOptions = {}): Promise<T> => {
    const opts: https.RequestOptions = { headers: {} };
    // Per request: exec plugins and projected service-account tokens rotate.
    await kc.applyToHTTPSOptions(opts);
    if (!cluster.proxyUrl) {
      // client-node builds a fresh agent per call, which would open a connection per request.
      agent ??= isHttps
        ? new https.Agent({
            keepAlive: true,
            ca: opts.ca,
            cert: opts.cert,
            key: opts.key,
            ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
            ...(opts.servername ? { servername: opts.servername } : {}),
          })
        : new http.Agent({ keepAlive: true });
      opts.agent = agent;
    }
    const url = new URL(base.pathname.replace(/\/$/, '') + path, base);
    for (const [k, v] of Object.entries(ro.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const body = ro.body === undefined ? undefined : Buffer.from(JSON.stringify(ro.body));
    const headers: http.OutgoingHttpHeaders = {
      ...(opts.headers as http.OutgoingHttpHeaders),
      accept: 'application/json',
      'user-agent': o.userAgent ?? 'herald',
    };
    if (body) {
      headers['content-type'] = ro.contentType ?? 'application/json';
      headers['content-length'] = body.length;
    }
    return new Promise<T>((resolve, reject) => {
      const mod = isHttps ? https : http;
      const req = mod.request(url, { ...opts, method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(new ApiError('Network', 0, `${method} ${path}: ${err.message}`)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          if (status >= 200 && status < 300) return resolve(parsed as T);
          const sb = (parsed && typeof parsed === 'object' ? parsed : undefined) as StatusBody | undefined;
          const ra = Number(res.headers['retry-after'] ?? sb?.details?.retryAfterSeconds);
          reject(
            new ApiError(
              codeForStatus(status, sb?.reason),
              status,
              `${method} ${path}: ${status} ${sb?.message ?? (text.slice(0, 200) || http.STATUS_CODES[status] || '')}`,
              sb,
              Number.isFinite(ra) && ra > 0 ? ra : undefined,
            ),
          );
        });
      });
      req.setTimeout(ro.timeoutMs ?? timeoutMs, () => req.destroy(new ApiError('Timeout', 0, `${method} ${path}: no answer in ${ro.timeoutMs ?? timeoutMs} ms`)));
      req.on('error', (err) => reject(err instanceof ApiError ? err : new ApiError('Network', 0, `${method} ${path}: ${err.message}`)));
      req.end(body);
    });
  };

  return {
    server: cluster.server,
    request,
    close: () => agent?.destroy(),
  };
}
