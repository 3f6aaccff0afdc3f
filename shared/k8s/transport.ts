// The connections to the API server: REST exchanges go over http1.ts's lean keep-alive
// connections (the controller's thousands of status writes reuse a few TLS connections
// instead of a handshake each), watches over a node:https keep-alive agent; both carry
// the credential of each request.
//
// The CA and client certificate go into one TLS SecureContext made once, not into each
// request's options: Node would otherwise parse the PEMs again for every new connection
// and fold them into the agent's pool key on every request.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { realClock, type Clock } from './clock.js';
import { createHttp1Client, type Http1Client } from './http1.js';
import type { Http1Response } from './http1-parser.js';
import { createCredentials, type Credential, type CredentialsOptions, type TlsMaterial } from './credentials.js';
import type { KubeConfigView } from './kubeconfig.js';

export interface Transport {
  /** The API server's base URL, as configured. */
  readonly server: string;
  /**
   * Starts a request (the caller writes the body and ends it). `path` is the API path
   * with its query string; headers get the credential and the user agent added.
   */
  request(method: string, path: string, headers: http.OutgoingHttpHeaders, signal?: AbortSignal): Promise<http.ClientRequest>;
  /**
   * One whole request and its whole answer (REST calls): `path` with its query string;
   * headers get the credential and the user agent added. Rejects on network failure,
   * with an Http1Timeout when no answer came in time.
   */
  exchange(method: string, path: string, headers: Record<string, string | number>, body: string | undefined, timeoutMs: number): Promise<Http1Response>;
  /** The server answered 401: credentials that can be fetched again will be. */
  unauthorized(): void;
  /** Closes idle and active connections. */
  close(): void;
}

/** The credential for a request could not be had (exec plugin, token file). */
export class CredentialError extends Error {
  override readonly name = 'CredentialError';
}

export interface TransportOptions {
  userAgent?: string;
  clock?: Clock;
  /** For tests: file reads and exec plugins. */
  credentials?: Omit<CredentialsOptions, 'clock'>;
}

export function createTransport(kc: KubeConfigView, o: TransportOptions = {}): Transport {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster (check current-context)');
  const creds = createCredentials(cluster, kc.getCurrentUser(), { clock: o.clock ?? realClock, ...o.credentials });
  const base = new URL(cluster.server);
  const isHttps = base.protocol === 'https:';
  if (!isHttps && base.protocol !== 'http:') throw new Error(`kubeconfig cluster ${cluster.name}: server ${cluster.server} is neither https:// nor http://`);
  const mod = isHttps ? https : http;
  const basePath = base.pathname.replace(/\/$/, '');
  const target = {
    protocol: base.protocol,
    // URL keeps an IPv6 literal's brackets; http.request wants the bare address.
    hostname: base.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: base.port || (isHttps ? 443 : 80),
  };
  const userAgent = o.userAgent ?? 'herald';

  let agent: http.Agent | undefined;
  let lean: Http1Client | undefined;
  /** The credential whose client certificate the agent and lean connections were built with. */
  let agentFor: Credential | undefined;
  const contextFor = (t: TlsMaterial, c: Credential): tls.SecureContext =>
    tls.createSecureContext({
      ...(t.ca ? { ca: t.ca } : {}),
      ...(c.cert ? { cert: c.cert, key: c.key } : t.cert ? { cert: t.cert, key: t.key } : {}),
    });
  const refresh = (c: Credential): void => {
    // An exec plugin may hand out a new client certificate: new connections must use it.
    if (agent && !(c.cert && c.cert !== agentFor?.cert)) return;
    agent?.destroy();
    lean?.close();
    agentFor = c;
    const t = creds.tls;
    const secureContext = isHttps ? contextFor(t, c) : undefined;
    agent = secureContext
      ? new https.Agent({ keepAlive: true, secureContext, rejectUnauthorized: t.rejectUnauthorized, ...(t.servername ? { servername: t.servername } : {}) })
      : new http.Agent({ keepAlive: true });
    // As node:https does: SNI and the certificate check use the host name, never an address.
    const servername = t.servername ?? (net.isIP(target.hostname) ? undefined : target.hostname);
    lean = createHttp1Client({
      hostname: target.hostname,
      port: Number(target.port),
      host: base.host,
      ...(secureContext ? { tls: { secureContext, rejectUnauthorized: t.rejectUnauthorized, ...(servername !== undefined ? { servername } : {}) } } : {}),
    });
  };
  const agentForCredential = (c: Credential): http.Agent => {
    refresh(c);
    return agent as http.Agent;
  };

  const open = (c: Credential, method: string, path: string, headers: http.OutgoingHttpHeaders, signal?: AbortSignal): http.ClientRequest => {
    headers['user-agent'] = userAgent;
    if (c.authorization) headers.authorization = c.authorization;
    return mod.request({ ...target, method, path: basePath + path, headers, agent: agentForCredential(c), ...(signal ? { signal } : {}) });
  };

  return {
    server: cluster.server,
    request: async (method, path, headers, signal) => {
      const c = creds.current();
      return open(c instanceof Promise ? await c : c, method, path, headers, signal);
    },
    exchange: async (method, path, headers, body, timeoutMs) => {
      let c: Credential;
      try {
        const cc = creds.current();
        c = cc instanceof Promise ? await cc : cc;
      } catch (err) {
        throw new CredentialError(err instanceof Error ? err.message : String(err));
      }
      refresh(c);
      const h: Record<string, string | number> = { ...headers, 'user-agent': userAgent };
      if (c.authorization) h.authorization = c.authorization;
      return (lean as Http1Client).request(method, basePath + path, h, body, timeoutMs);
    },
    unauthorized: () => creds.invalidate(),
    close: () => {
      agent?.destroy();
      lean?.close();
    },
  };
}

/** "?a=1&b=2" from a query object, skipping undefined values; "" when there are none. */
export function queryString(q: Record<string, string | number | boolean | undefined> | undefined): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const k in q) {
    const v = q[k];
    if (v !== undefined) p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}
