// OpenAPI for kubectl. /openapi/v2 is an empty (zero-byte) protobuf Document: kubectl 1.32
// refuses to apply when it cannot download one, and with no schemas in it kubectl
// leaves validation to the server (fieldValidation=Strict). /openapi/v3 serves the
// custom resources' schemas per group-version, which is what `kubectl explain` reads;
// built-in kinds have none here.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { notFoundPath } from './errors.js';
import type { Registry, ResourceDef } from './registry.js';

function sendJSON(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function gvPath(d: ResourceDef): string {
  return d.group ? `apis/${d.group}/${d.version}` : `api/${d.version}`;
}

/** Reversed-domain schema names, as kube-apiserver names CRD schemas (dev.herald.v1beta1.IPAddressPool). */
function schemaName(d: ResourceDef): string {
  return `${d.group.split('.').reverse().join('.')}.${d.version}.${d.kind}`;
}

function gvDocument(defs: ResourceDef[]): Record<string, unknown> {
  const schemas: Record<string, unknown> = {};
  const paths: Record<string, unknown> = {};
  const fieldValidation = { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } };
  for (const d of defs) {
    const gvk = [{ group: d.group, version: d.version, kind: d.kind }];
    schemas[schemaName(d)] = { ...(d.crd?.schema ?? { type: 'object' }), 'x-kubernetes-group-version-kind': gvk };
    const base = d.namespaced ? `/${gvPath(d)}/namespaces/{namespace}/${d.plural}` : `/${gvPath(d)}/${d.plural}`;
    const op = { 'x-kubernetes-group-version-kind': gvk[0], parameters: [fieldValidation], responses: {} };
    paths[base] = { post: { ...op, 'x-kubernetes-action': 'post' } };
    paths[`${base}/{name}`] = { put: { ...op, 'x-kubernetes-action': 'put' }, patch: { ...op, 'x-kubernetes-action': 'patch' } };
  }
  return { openapi: '3.0.0', info: { title: 'herald embedded API server', version: 'v1.32.0' }, paths, components: { schemas } };
}

export function openAPIHandler(registry: Registry, parts: string[], _req: IncomingMessage, res: ServerResponse): void {
  if (parts[0] === 'v2' && parts.length === 1) {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': '0' });
    res.end();
    return;
  }
  if (parts[0] !== 'v3') throw notFoundPath();
  const byGV = new Map<string, ResourceDef[]>();
  for (const d of registry.all()) {
    if (!d.crd) continue;
    const k = gvPath(d);
    byGV.set(k, [...(byGV.get(k) ?? []), d]);
  }
  if (parts.length === 1) {
    const paths: Record<string, unknown> = {};
    for (const [gv, defs] of byGV) {
      const hash = createHash('sha256').update(JSON.stringify(gvDocument(defs))).digest('hex').slice(0, 32).toUpperCase();
      paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${hash}` };
    }
    return sendJSON(res, { paths });
  }
  const defs = byGV.get(parts.slice(1).join('/'));
  if (!defs) throw notFoundPath();
  sendJSON(res, gvDocument(defs));
}
