// Discovery documents: the legacy ones (/api, /apis, /api/v1, /apis/<g>, /apis/<g>/<v>)
// and aggregated discovery (apidiscovery.k8s.io/v2, one request for everything), which
// kubectl 1.32 asks for first.
import { createHash } from 'node:crypto';
import type { Obj } from './object.js';
import type { Registry, ResourceDef } from './registry.js';

export const AGGREGATED_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
export const AGGREGATED_V2BETA1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

function storageVersionHash(def: ResourceDef): string {
  return createHash('sha256').update(`${def.group}/${def.version}/${def.kind}`).digest('base64').slice(0, 11);
}

function apiResource(def: ResourceDef): Obj {
  const r: Obj = { name: def.plural, singularName: def.singular, namespaced: def.namespaced, kind: def.kind, verbs: def.verbs };
  if (def.shortNames.length > 0) r.shortNames = def.shortNames;
  if (def.categories.length > 0) r.categories = def.categories;
  r.storageVersionHash = storageVersionHash(def);
  return r;
}

const SUB_VERBS = ['get', 'patch', 'update'];

export function resourceList(registry: Registry, group: string, version: string): Obj | undefined {
  const defs = registry.groups().get(group)?.get(version);
  if (!defs) return undefined;
  const resources: Obj[] = [];
  for (const d of defs) {
    resources.push(apiResource(d));
    for (const s of d.subresources) resources.push({ name: `${d.plural}/${s}`, singularName: '', namespaced: d.namespaced, kind: d.kind, verbs: SUB_VERBS });
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

function groupDoc(name: string, versions: string[]): Obj {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

export function apiVersions(serverAddress: string): Obj {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

export function apiGroupList(registry: Registry): Obj {
  const groups: Obj[] = [];
  for (const [g, versions] of registry.groups()) if (g !== '') groups.push(groupDoc(g, [...versions.keys()]));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

export function apiGroup(registry: Registry, group: string): Obj | undefined {
  const versions = registry.groups().get(group);
  if (!versions || group === '') return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(group, [...versions.keys()]) };
}

function discoveryResource(def: ResourceDef): Obj {
  const responseKind = { group: def.group, version: def.version, kind: def.kind };
  const r: Obj = {
    resource: def.plural,
    responseKind,
    scope: def.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: def.singular,
    verbs: def.verbs,
  };
  if (def.shortNames.length > 0) r.shortNames = def.shortNames;
  if (def.categories.length > 0) r.categories = def.categories;
  if (def.subresources.length > 0) r.subresources = def.subresources.map((s) => ({ subresource: s, responseKind, verbs: SUB_VERBS }));
  return r;
}

/** The APIGroupDiscoveryList for /api (legacy: core only) or /apis (every named group). */
export function aggregated(registry: Registry, legacy: boolean, apiVersion: 'v2' | 'v2beta1'): Obj {
  const items: Obj[] = [];
  for (const [g, versions] of registry.groups()) {
    if ((g === '') !== legacy) continue;
    items.push({
      metadata: { name: g, creationTimestamp: null },
      versions: [...versions.entries()].map(([v, defs]) => ({ version: v, resources: defs.map(discoveryResource), freshness: 'Current' })),
    });
  }
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${apiVersion}`, metadata: {}, items };
}

export function versionInfo(): Obj {
  return {
    major: '1',
    minor: '32',
    gitVersion: 'v1.32.0-herald',
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2025-01-01T00:00:00Z',
    goVersion: 'go1.23.0',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}
