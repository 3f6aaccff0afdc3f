// Request handling: URL → (group, version, namespace, resource, name, subresource) as in
// k8s.io/apiserver/pkg/endpoints/request/requestinfo.go, authentication, authorization,
// injected faults, content negotiation (JSON, Table, PartialObjectMetadata, aggregated
// discovery), and errors written as metav1.Status.
import type { IncomingMessage, ServerResponse } from 'node:http';
import yaml from 'js-yaml';
import type { Logger } from 'pino';
import { accessReview, impersonate } from './access.js';
import type { TokenAuthenticator, User } from './auth.js';
import type { RequestAuthorizer } from './authz.js';
import { aggregated, AGGREGATED_V2, AGGREGATED_V2BETA1, apiGroup, apiGroupList, apiVersions, resourceList, versionInfo } from './discovery.js';
import { ApiError, badRequest, internalError, methodNotSupported, notFoundPath, tooLarge, unauthorized, unsupportedMediaType } from './errors.js';
import type { Faults } from './faults.js';
import type { Obj } from './object.js';
import { openAPIHandler } from './openapi.js';
import { decodeKubernetesProtobuf, PROTOBUF } from './protobuf.js';
import { apiVersionOf, hasStatus, type Registry, type ResourceDef } from './registry.js';
import { gr, type ListResult, type Rest, type WriteResult } from './rest.js';
import type { Stored } from './store.js';
import { toTable, type IncludeObject } from './table.js';
import type { WatchHub } from './watch.js';

const MAX_BODY = 3 * 1024 * 1024;
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export interface HandlerDeps {
  registry: Registry;
  rest: Rest;
  watches: WatchHub;
  authn: TokenAuthenticator;
  authz: RequestAuthorizer;
  faults: Faults;
  log: Logger;
  now: () => Date;
  serverAddress: () => string;
  bookmarkIntervalMs: number;
}

interface ResourceRequest {
  group: string;
  version: string;
  namespace?: string;
  resource: string;
  name?: string;
  subresource?: string;
}

type Render = { kind: 'json' } | { kind: 'table'; version: string; include: IncludeObject } | { kind: 'metadata' };

interface MediaRange {
  type: string;
  params: Record<string, string>;
}

export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header) return [];
  return header.split(',').map((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim());
    const p: Record<string, string> = {};
    for (const kv of params) {
      const i = kv.indexOf('=');
      if (i > 0) p[kv.slice(0, i).trim()] = kv.slice(i + 1).trim();
    }
    return { type: (type ?? '').toLowerCase(), params: p };
  });
}

function chooseRender(accept: MediaRange[], q: URLSearchParams): Render {
  for (const m of accept) {
    if (m.type !== 'application/json' && m.type !== '*/*' && m.type !== 'application/*') continue;
    const as = m.params.as;
    if (as === undefined) return { kind: 'json' };
    if (m.params.g !== 'meta.k8s.io') continue;
    if (as === 'Table' && (m.params.v === 'v1' || m.params.v === 'v1beta1')) {
      const inc = q.get('includeObject');
      const include: IncludeObject = inc === 'None' || inc === 'Object' ? inc : 'Metadata';
      return { kind: 'table', version: m.params.v, include };
    }
    if ((as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') && m.params.v === 'v1') return { kind: 'metadata' };
  }
  return { kind: 'json' };
}

function send(res: ServerResponse, code: number, body: string, headers: Record<string, string> = {}, contentType = 'application/json'): void {
  res.writeHead(code, { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private', 'Content-Length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

function sendObj(res: ServerResponse, code: number, o: unknown, contentType?: string): void {
  send(res, code, JSON.stringify(o), {}, contentType);
}

async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw tooLarge();
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

async function readBody(req: IncomingMessage): Promise<string> {
  return (await readRaw(req)).toString('utf8');
}

/** A create, update or delete body: JSON, YAML, or Kubernetes protobuf. */
async function readObject(req: IncomingMessage): Promise<unknown> {
  const contentType = req.headers['content-type'];
  const raw = await readRaw(req);
  if (contentType?.split(';')[0]?.trim().toLowerCase() === PROTOBUF) return raw.length === 0 ? undefined : decodeKubernetesProtobuf(raw);
  return parseBody(raw.toString('utf8'), contentType);
}

function parseBody(raw: string, contentType: string | undefined): unknown {
  const type = (contentType ?? 'application/json').split(';')[0]?.trim().toLowerCase();
  if (raw.trim() === '') return undefined;
  if (type === 'application/yaml') return yaml.load(raw);
  if (type !== 'application/json' && type !== '' && type !== '*/*') throw unsupportedMediaType(contentType ?? '', ['application/json', 'application/yaml']);
  try {
    return JSON.parse(raw);
  } catch (e) {
    throw badRequest(`couldn't get version/kind; json parse error: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Splits `/api/v1/...` and `/apis/<g>/<v>/...` into the parts of a resource request. */
export function parseResourcePath(parts: string[]): ResourceRequest | undefined {
  let group = '';
  let rest: string[];
  let version: string;
  if (parts[0] === 'api' && parts.length >= 3) {
    version = parts[1] as string;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1] as string;
    version = parts[2] as string;
    rest = parts.slice(3);
  } else return undefined;
  const r: ResourceRequest = { group, version, resource: '' };
  if (rest[0] === 'namespaces' && rest.length > 1) {
    r.namespace = rest[1];
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2] as string)) rest = rest.slice(2);
  }
  r.resource = rest[0] as string;
  if (rest.length > 1) r.name = rest[1];
  if (rest.length > 2) r.subresource = rest[2];
  if (rest.length > 3) return undefined;
  if (r.resource === 'namespaces') delete r.namespace;
  return r;
}

export class Handler {
  constructor(private readonly d: HandlerDeps) {}

  handle = (req: IncomingMessage, res: ServerResponse): void => {
    const started = Date.now();
    this.serve(req, res)
      .catch((e: unknown) => this.fail(res, e))
      .finally(() => {
        this.d.log.debug({ method: req.method, url: req.url, code: res.statusCode, ms: Date.now() - started }, 'request');
      });
  };

  private fail(res: ServerResponse, e: unknown): void {
    const err = e instanceof ApiError ? e : internalError(e instanceof Error ? e.message : String(e));
    if (!(e instanceof ApiError)) this.d.log.error({ err: e }, 'request failed');
    if (res.headersSent) {
      res.end();
      return;
    }
    send(res, err.code, JSON.stringify(err.toStatus()), err.headers);
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const parts = url.pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
    const path = '/' + parts.join('/');
    const q = url.searchParams;
    if (/^\/(healthz|livez|readyz)(\/|$)/.test(path)) return send(res, 200, 'ok', {}, 'text/plain; charset=utf-8');
    if (path === '/version') return sendObj(res, 200, versionInfo());
    const authenticated = this.d.authn.authenticate(req.headers.authorization);
    if (!authenticated) throw unauthorized();
    const user = impersonate(this.d.authz, authenticated, req);
    const accept = parseAccept(req.headers.accept);
    if (parseResourcePath(parts) === undefined) {
      const denied = this.d.authz.check(user, { verb: (req.method ?? 'GET').toLowerCase(), apiGroup: '', resource: '', path });
      if (denied) throw denied;
    }
    if (parts[0] === 'openapi') return openAPIHandler(this.d.registry, parts.slice(1), req, res);
    if (path === '/api' || path === '/apis') {
      const agg = accept.find((m) => m.params.as === 'APIGroupDiscoveryList' && m.params.g === 'apidiscovery.k8s.io');
      if (agg && (agg.params.v === 'v2' || agg.params.v === 'v2beta1')) {
        const v = agg.params.v;
        return sendObj(res, 200, aggregated(this.d.registry, path === '/api', v), v === 'v2' ? AGGREGATED_V2 : AGGREGATED_V2BETA1);
      }
      return sendObj(res, 200, path === '/api' ? apiVersions(this.d.serverAddress()) : apiGroupList(this.d.registry));
    }
    if (parts[0] === 'apis' && parts.length === 2) {
      const g = apiGroup(this.d.registry, parts[1] as string);
      if (!g) throw notFoundPath();
      return sendObj(res, 200, g);
    }
    if ((parts[0] === 'api' && parts.length === 2) || (parts[0] === 'apis' && parts.length === 3)) {
      const list = parts[0] === 'api' ? resourceList(this.d.registry, '', parts[1] as string) : resourceList(this.d.registry, parts[1] as string, parts[2] as string);
      if (!list) throw notFoundPath();
      return sendObj(res, 200, list);
    }
    const rr = parseResourcePath(parts);
    if (!rr) throw notFoundPath();
    return this.serveResource(req, res, user, rr, q, chooseRender(accept, q));
  }

  private verbOf(method: string, rr: ResourceRequest, q: URLSearchParams): string {
    switch (method) {
      case 'GET':
        if (q.get('watch') === 'true' || q.get('watch') === '1') return 'watch';
        return rr.name !== undefined ? 'get' : 'list';
      case 'POST':
        return 'create';
      case 'PUT':
        return 'update';
      case 'PATCH':
        return 'patch';
      case 'DELETE':
        return rr.name !== undefined ? 'delete' : 'deletecollection';
      default:
        return method.toLowerCase();
    }
  }

  private async serveResource(req: IncomingMessage, res: ServerResponse, user: User, rr: ResourceRequest, q: URLSearchParams, render: Render): Promise<void> {
    const def = this.d.registry.lookup(rr.group, rr.version, rr.resource);
    if (!def) throw notFoundPath();
    const verb = this.verbOf(req.method ?? 'GET', rr, q);
    if (def.namespaced === false && rr.namespace !== undefined) throw notFoundPath();
    if (rr.subresource !== undefined && !(rr.subresource === 'status' && hasStatus(def))) throw notFoundPath();
    const facts = { verb, group: def.group, resource: def.plural, namespace: rr.namespace, name: rr.name };
    const delay = this.d.faults.delayFor(facts);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    const injected = this.d.faults.failureFor(facts);
    if (injected) throw injected;
    let authzName = rr.name;
    if ((verb === 'list' || verb === 'watch') && authzName === undefined) {
      const m = /(?:^|,)metadata\.name==?([^,]+)(?:,|$)/.exec(q.get('fieldSelector') ?? '');
      if (m) authzName = m[1];
    }
    const denied = this.d.authz.check(user, {
      verb,
      apiGroup: def.group,
      resource: def.plural,
      ...(rr.subresource !== undefined ? { subresource: rr.subresource } : {}),
      ...(rr.namespace !== undefined ? { namespace: rr.namespace } : {}),
      ...(authzName !== undefined ? { name: authzName } : {}),
    });
    if (denied) throw denied;
    const needsNamespace = def.namespaced && rr.namespace === undefined;
    const rest = this.d.rest;
    if (def.group === 'authorization.k8s.io') {
      if (verb !== 'create' || rr.name !== undefined) throw methodNotSupported(gr(def), verb);
      return sendObj(res, 201, accessReview(this.d.authz, def, user, await readObject(req)));
    }
    switch (verb) {
      case 'get':
        if (needsNamespace) throw notFoundPath();
        return this.sendOne(res, 200, def, rest.get(def, rr.namespace, rr.name as string), undefined, render);
      case 'list':
        return this.sendList(res, def, rest.list(def, rr.namespace, q), render);
      case 'watch': {
        // A watch of one named object is a watch with a metadata.name field selector.
        const wq = new URLSearchParams(q);
        if (rr.name !== undefined) wq.set('fieldSelector', [q.get('fieldSelector'), `metadata.name=${rr.name}`].filter(Boolean).join(','));
        return this.d.watches.start(def, rr.namespace, wq, res, {
          bookmarkIntervalMs: this.d.bookmarkIntervalMs,
          render: (d, s) => this.renderOne(d, s, render),
        });
      }
      case 'create': {
        if (rr.name !== undefined) throw methodNotSupported(gr(def), 'create');
        if (needsNamespace) throw notFoundPath();
        const body = await readObject(req);
        return this.sendWrite(res, def, rest.create(def, rr.namespace, body, q), render);
      }
      case 'update': {
        if (rr.name === undefined) throw methodNotSupported(gr(def), 'update');
        if (needsNamespace) throw notFoundPath();
        const body = await readObject(req);
        return this.sendWrite(res, def, rest.update(def, rr.namespace, rr.name, rr.subresource, body, q), render);
      }
      case 'patch': {
        if (rr.name === undefined) throw methodNotSupported(gr(def), 'patch');
        if (needsNamespace) throw notFoundPath();
        const raw = await readBody(req);
        return this.sendWrite(res, def, rest.patch(def, rr.namespace, rr.name, rr.subresource, req.headers['content-type'] ?? '', raw, q), render);
      }
      case 'delete': {
        if (needsNamespace || rr.subresource !== undefined) throw notFoundPath();
        const body = await readObject(req);
        return this.sendWrite(res, def, rest.delete(def, rr.namespace, rr.name as string, body, q), render);
      }
      case 'deletecollection': {
        const body = await readObject(req);
        const items = rest.deleteCollection(def, rr.namespace, body, q).map((o) => rest.external(def, o));
        return sendObj(res, 200, { kind: def.listKind, apiVersion: apiVersionOf(def), metadata: {}, items });
      }
      default:
        throw methodNotSupported(gr(def), verb);
    }
  }

  private renderOne(def: ResourceDef, s: Stored, render: Render): string {
    if (render.kind === 'json') return this.d.rest.json(def, s);
    const o = this.d.rest.external(def, s.obj);
    if (render.kind === 'metadata') return JSON.stringify({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata });
    const t = toTable(def, [o], { resourceVersion: String(s.rv) }, render.include, this.d.now());
    t.apiVersion = `meta.k8s.io/${render.version}`;
    return JSON.stringify(t);
  }

  private sendOne(res: ServerResponse, code: number, def: ResourceDef, s: Stored | undefined, obj: Obj | undefined, render: Render): void {
    if (s) return send(res, code, this.renderOne(def, s, render));
    sendObj(res, code, this.d.rest.external(def, obj as Obj));
  }

  private sendWrite(res: ServerResponse, def: ResourceDef, r: WriteResult, render: Render): void {
    this.sendOne(res, r.code, def, r.stored, r.stored ? undefined : r.obj, render.kind === 'table' ? { kind: 'json' } : render);
  }

  private sendList(res: ServerResponse, def: ResourceDef, l: ListResult, render: Render): void {
    const meta: { resourceVersion: string; continue?: string; remainingItemCount?: number } = { resourceVersion: String(l.rv) };
    if (l.continue) meta.continue = l.continue;
    if (l.remaining !== undefined) meta.remainingItemCount = l.remaining;
    if (render.kind === 'table') {
      const t = toTable(def, l.items.map((s) => this.d.rest.external(def, s.obj)), meta, render.include, this.d.now());
      t.apiVersion = `meta.k8s.io/${render.version}`;
      return sendObj(res, 200, t);
    }
    if (render.kind === 'metadata') {
      return sendObj(res, 200, {
        kind: 'PartialObjectMetadataList',
        apiVersion: 'meta.k8s.io/v1',
        metadata: meta,
        items: l.items.map((s) => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: s.obj.metadata })),
      });
    }
    const head = `{"kind":${JSON.stringify(def.listKind)},"apiVersion":${JSON.stringify(apiVersionOf(def))},"metadata":${JSON.stringify(meta)},"items":[`;
    const parts: string[] = [head];
    l.items.forEach((s, i) => parts.push(i === 0 ? this.d.rest.json(def, s) : ',' + this.d.rest.json(def, s)));
    parts.push(']}');
    send(res, 200, parts.join(''));
  }
}

