// herald's embedded Kubernetes API server: what a kube-apiserver does for herald's
// controller, speaker, lab and kubectl 1.32, over plain HTTP on loopback (and optionally
// a unix socket). Tests start one in-process; `herald apiserver` runs one on its own.
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createTLSServer } from 'node:https';
import { rmSync } from 'node:fs';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { kubeconfigYAML, TokenAuthenticator, writeKubeconfigFile, type Identity } from './auth.js';
import { RequestAuthorizer } from './authz.js';
import { loadRBACObjects } from './rbac.js';
import { accessReviewDefs, builtinDefs, crdDefinitionDef } from './builtins.js';
import { compileCRD } from './crd-validation.js';
import { CrdStrategy, readManifests } from './crds.js';
import { ApiError } from './errors.js';
import { Faults, matches, type FaultInjector, type FaultMatch } from './faults.js';
import { Handler } from './http.js';
import { meta, type Obj } from './object.js';
import { Registry, type ResourceDef } from './registry.js';
import { Rest } from './rest.js';
import { ServiceStrategy } from './services.js';
import { Store } from './store.js';
import { selfSignedCert, type ServingCert } from './tls.js';
import { WatchHub } from './watch.js';
import { packageRoot } from '../../shared/repo-root.js';

export type { FaultInjector, FaultMatch } from './faults.js';
export type { Identity } from './auth.js';

export interface ApiServerOptions {
  /** 'host:port' ('[::1]:port' for IPv6); default '127.0.0.1:0' (any free port). */
  listen?: string;
  /** Also serve on this unix socket path. */
  unixSocket?: string;
  /** CRD manifests to serve; default <repo>/manifests/crds. */
  crdDir?: string;
  /** Where Roles, ClusterRoles and bindings are read from (recursively); default <repo>/manifests. */
  rbacDir?: string;
  /** Check requests against RBAC; default true (the admin identity is always allowed). */
  authorization?: boolean;
  /** Watch events kept per resource for resuming watches; default 10000. */
  historyLimit?: number;
  /** Service CIDRs, primary family first; default ['10.96.0.0/16', 'fd00:10:96::/112']. */
  serviceCIDRs?: string[];
  /**
   * Node ports, 'min-max' as kube-apiserver's --service-node-port-range; default
   * '30000-32767', room for 2768 (so many LoadBalancer Services need
   * allocateLoadBalancerNodePorts: false, or a wider range, as on a real cluster).
   */
  nodePortRange?: string;
  /** A logger to use; otherwise one at logLevel (default 'warn') on stdout. */
  logger?: Logger;
  logLevel?: string;
  /** How often watches that allow bookmarks get one; default 60000 ms as in kube-apiserver. */
  bookmarkIntervalMs?: number;
  /**
   * Serve HTTPS with a self-signed certificate that the kubeconfigs carry (default true).
   * kubectl sends tokens only over TLS; plain HTTP suits clients such as client-node.
   */
  tls?: boolean;
  /** Extra DNS names or IPs for the certificate (listen address, loopback and localhost are in it). */
  certSANs?: string[];
  /** Fixed tokens instead of random ones (e.g. for a lab that restarts the server). */
  tokens?: Partial<Record<Identity, string>>;
}

export interface EmbeddedApiServer {
  url: string;
  port: number;
  /** The serving certificate (PEM) when TLS is on; clients trust it as their CA. */
  caPEM?: string;
  tokens: { admin: string; controller: string; speaker: string };
  kubeconfig(identity?: Identity): string;
  writeKubeconfig(path: string, identity?: Identity): void;
  faults: FaultInjector;
  close(): Promise<void>;
}

const REPO = packageRoot(import.meta.url);
const NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease', 'herald-system'];

function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen);
  if (!m) throw new Error(`--listen must be host:port, got "${listen}"`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port: Number(m[3]) };
}

function parsePortRange(text: string): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(text.trim());
  const lo = Number(m?.[1]);
  const hi = Number(m?.[2]);
  if (!m || lo < 1 || hi > 65535 || lo > hi) throw new Error(`node port range must be min-max within 1-65535, got "${text}"`);
  return [lo, hi];
}

function certNames(host: string, extra: readonly string[]): string[] {
  const names = ['localhost', '127.0.0.1', '::1', ...extra];
  if (host === '0.0.0.0' || host === '::' || host === '') {
    for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) names.push(a.address.replace(/%.*$/, ''));
  } else names.push(host);
  return names.filter((n) => isIP(n) !== 0 || /^[a-z0-9.-]+$/i.test(n));
}

function makeServer(cert: ServingCert | undefined, listener: RequestListener): Server {
  const common = { keepAliveTimeout: 60_000, requestTimeout: 0 };
  return cert ? createTLSServer({ ...common, cert: cert.cert, key: cert.key }, listener) : createServer(common, listener);
}

function listenOn(server: Server, target: { host: string; port: number } | string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve();
    };
    if (typeof target === 'string') server.listen(target, done);
    else server.listen(target.port, target.host, done);
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startApiServer(opts: ApiServerOptions = {}): Promise<EmbeddedApiServer> {
  const log = opts.logger ?? pino({ level: opts.logLevel ?? 'warn', base: { component: 'apiserver' } });
  const now = (): Date => new Date();
  const store = new Store(opts.historyLimit ?? 10000);
  const registry = new Registry();
  const services = new ServiceStrategy({ serviceCIDRs: opts.serviceCIDRs ?? ['10.96.0.0/16', 'fd00:10:96::/112'], nodePortRange: parsePortRange(opts.nodePortRange ?? '30000-32767') });
  for (const d of [...builtinDefs(services), ...accessReviewDefs()]) registry.add(d);
  const removeAll = (d: ResourceDef): void => {
    for (const s of [...store.bucket(d.bucket).objects.values()]) store.remove(d.bucket, JSON.parse(s.json) as Obj);
  };
  const crdDef = crdDefinitionDef(new CrdStrategy(registry, compileCRD, now, removeAll));
  registry.add(crdDef);
  const rest = new Rest(store, registry, now);
  const none = new URLSearchParams();

  const nsDef = registry.lookup('', 'v1', 'namespaces') as ResourceDef;
  for (const name of NAMESPACES) rest.create(nsDef, undefined, { metadata: { name } }, none);
  const svcDef = registry.lookup('', 'v1', 'services') as ResourceDef;
  rest.create(svcDef, 'default', {
    metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] },
  }, none);

  const crdDir = opts.crdDir ?? join(REPO, 'manifests', 'crds');
  for (const crd of readManifests(crdDir, ['CustomResourceDefinition'])) {
    try {
      rest.create(crdDef, undefined, crd, none);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new Error(`CRD ${String(meta(crd).name)} from ${crdDir} cannot be served: ${msg}`);
    }
  }
  const rbacDir = opts.rbacDir ?? join(REPO, 'manifests');
  for (const o of loadRBACObjects(rbacDir)) {
    const m = meta(o);
    const [group, version] = String(o.apiVersion ?? '').split('/');
    const def = registry.byKind(group ?? '', String(o.kind));
    if (!def || version !== def.version) continue;
    try {
      if (def.namespaced && m.namespace && !store.get('/namespaces', undefined, m.namespace)) {
        rest.create(nsDef, undefined, { metadata: { name: m.namespace } }, none);
      }
      rest.create(def, def.namespaced ? (m.namespace ?? 'default') : undefined, o, none);
    } catch (e) {
      if (e instanceof ApiError && e.code === 409) log.debug({ kind: o.kind, name: m.name }, 'RBAC object defined twice under manifests; first one kept');
      else throw new Error(`${String(o.kind)} ${String(m.name)} from ${rbacDir}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  const authn = new TokenAuthenticator(opts.tokens);
  const authz = new RequestAuthorizer(store, opts.authorization ?? true, log);
  const faults = new Faults();
  const watches = new WatchHub(store, rest, log);
  const { host, port: wantPort } = parseListen(opts.listen ?? '127.0.0.1:0');
  let address = '';
  const handler = new Handler({
    registry,
    rest,
    watches,
    authn,
    authz,
    faults,
    log,
    now,
    serverAddress: () => address,
    bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000,
  });
  const cert = opts.tls === false ? undefined : selfSignedCert(certNames(host, opts.certSANs ?? []));
  const servers: Server[] = [];
  const tcp = makeServer(cert, handler.handle);
  await listenOn(tcp, { host, port: wantPort });
  servers.push(tcp);
  const bound = tcp.address();
  const port = typeof bound === 'object' && bound ? bound.port : wantPort;
  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  address = `${urlHost.includes(':') ? `[${urlHost}]` : urlHost}:${port}`;
  const url = `${cert ? 'https' : 'http'}://${address}`;
  if (opts.unixSocket) {
    rmSync(opts.unixSocket, { force: true });
    const unix = makeServer(cert, handler.handle);
    await listenOn(unix, opts.unixSocket);
    servers.push(unix);
  }
  log.info({ url, unixSocket: opts.unixSocket, crds: registry.all().filter((d) => d.crd).map((d) => d.kind) }, 'API server listening');

  const injector: FaultInjector = {
    closeWatches: (m: FaultMatch = {}) => {
      watches.closeAll((s) => matches(m, { verb: 'watch', resource: s.def.plural, namespace: s.namespace }));
    },
    failNext: (count, status, m) => faults.failNext(count, status, m),
    latency: (ms, m) => faults.latency(ms, m),
    compact: () => store.compact(),
    clear: () => faults.clear(),
  };
  let closing: Promise<void> | undefined;
  const kubeconfig = (identity: Identity = 'admin'): string => kubeconfigYAML(url, identity, authn.tokens[identity], cert?.cert);
  return {
    url,
    port,
    ...(cert ? { caPEM: cert.cert } : {}),
    tokens: authn.tokens,
    kubeconfig,
    writeKubeconfig: (path: string, identity: Identity = 'admin') => writeKubeconfigFile(path, kubeconfig(identity)),
    faults: injector,
    close: () => {
      closing ??= (async () => {
        watches.closeAll();
        await Promise.all(servers.map(closeServer));
        if (opts.unixSocket) rmSync(opts.unixSocket, { force: true });
        log.info('API server stopped');
      })();
      return closing;
    },
  };
}
